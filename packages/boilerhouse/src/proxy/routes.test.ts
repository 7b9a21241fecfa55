/** Request targets: canonical paths only, the served endpoints only, known query parameters only. */
import { describe, expect, test } from 'vitest';
import { ProxyDenial } from './denial.ts';
import { parseTarget } from './paths.ts';
import { matchRoute } from './routes.ts';

const route = (method: string, url: string) => matchRoute(method, parseTarget(url));

function refusal(run: () => unknown): ProxyDenial {
  try {
    run();
  } catch (error) {
    if (error instanceof ProxyDenial) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('paths', () => {
  test('an optional version prefix from v1.24 to v1.41', () => {
    expect(route('POST', '/containers/create').route.name).toBe('container.create');
    expect(route('POST', '/v1.41/containers/create').route.name).toBe('container.create');
    expect(route('POST', '/v1.24/containers/abc/start').param).toBe('abc');
  });

  test.each([
    ['/v1.41//containers/create', 'empty segment'],
    ['//containers/create', 'empty segment'],
    ['/containers/create/', 'empty segment'],
    ['/./containers/create', '. or ..'],
    ['/v1.41/./containers/create', '. or ..'],
    ['/containers/abc/../create', '. or ..'],
    ['/containers/%63reate', 'no percent-encoding'],
    ['/v1.41/containers/abc%2F..%2F..%2Fbuild', 'no percent-encoding'],
    ['/containers\\create', 'no percent-encoding'],
    ['containers/create', 'does not start with /'],
    ['/v1.42/containers/create', 'API version v1.42'],
    ['/v1.12/containers/create', 'API version v1.12'],
    ['/v1.041/containers/create', 'API version v1.041'],
    ['/v2.0/containers/create', 'API version v2.0'],
    ['/v1.41', 'names no endpoint'],
  ])('%s is refused (%s)', (url, why) => {
    const denial = refusal(() => route('POST', url));
    expect(denial).toMatchObject({ status: 400, reason: 'path' });
    expect(denial.message).toContain(why);
  });

  test('a second version prefix is no endpoint', () => {
    expect(refusal(() => route('POST', '/v1.41/v1.41/containers/create'))).toMatchObject({
      status: 403,
      reason: 'endpoint',
    });
  });
});

describe('endpoints', () => {
  test.each([
    ['POST', '/build'],
    ['POST', '/commit?container=abc'],
    ['GET', '/containers/abc/export'],
    ['GET', '/containers/abc/archive?path=/'],
    ['PUT', '/containers/abc/archive?path=/'],
    ['HEAD', '/containers/abc/archive?path=/'],
    ['GET', '/containers/abc/changes'],
    ['POST', '/containers/abc/update'],
    ['POST', '/containers/abc/rename?name=x'],
    ['POST', '/containers/abc/pause'],
    ['GET', '/containers/abc/attach/ws'],
    ['POST', '/containers/prune'],
    ['GET', '/images/json'],
    ['POST', '/images/create?fromImage=alpine'],
    ['DELETE', '/images/alpine'],
    ['POST', '/images/alpine/tag?repo=x'],
    ['GET', '/images/alpine/get'],
    ['POST', '/images/load'],
    ['GET', '/volumes'],
    ['POST', '/volumes/create'],
    ['GET', '/networks'],
    ['POST', '/networks/bridge/connect'],
    ['GET', '/plugins'],
    ['POST', '/plugins/pull'],
    ['POST', '/swarm/init'],
    ['GET', '/services'],
    ['GET', '/secrets'],
    ['GET', '/system/df'],
    ['POST', '/session'],
    ['POST', '/auth'],
    ['GET', '/distribution/alpine/json'],
    ['GET', '/Containers/json'],
    ['PUT', '/containers/create'],
  ])('%s %s is not served', (method, url) => {
    expect(refusal(() => route(method, url))).toMatchObject({ status: 403, reason: 'endpoint' });
  });

  test('image inspect takes names with a registry, a path and a tag', () => {
    expect(route('GET', '/images/registry.local:5000/team/app:1.2/json').param).toBe(
      'registry.local:5000/team/app:1.2',
    );
  });

  test('only known query parameters are passed on, each once', () => {
    // dockerode repeats a create's options in the query; the engine ignores them, so does the proxy.
    const create = route('POST', '/containers/create?name=a&Image=x&Cmd=sh&Cmd=-c&HostConfig=%7B%7D');
    expect([...create.query.entries()]).toEqual([['name', 'a']]);
    const logs = route('GET', '/containers/a1/logs?follow=1&stdout=1&hijack=true');
    expect(logs.query.toString()).toBe('follow=1&stdout=1');
    expect(refusal(() => route('POST', '/containers/create?name=a&name=b'))).toMatchObject({
      status: 400,
      reason: 'query',
    });
  });
});
