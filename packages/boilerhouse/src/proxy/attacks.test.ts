/**
 * The attack suite: requests a workload could send its filtered socket to reach the host or another
 * instance, each on its own, over a real unix socket to the real engine. Every one must be refused with a
 * JSON error, counted and logged, and must leave no container behind.
 */
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { MAX_BODY_BYTES } from './body.ts';
import {
  CHILD_IMAGE,
  callProxy,
  childrenOnEngine,
  parseResponse,
  rawExchange,
  startTestProxy,
  type TestProxy,
} from './testing.ts';

let mine: TestProxy;
let other: TestProxy;
/** A container of this instance, and one of another instance (created, never started). */
let ownChild: string;
let otherChild: string;

beforeAll(async () => {
  [mine, other] = await Promise.all([startTestProxy(), startTestProxy()]);
  const created = await callProxy(mine.socketPath, 'POST', '/containers/create?name=mine', {
    Image: CHILD_IMAGE,
  });
  const theirs = await callProxy(other.socketPath, 'POST', '/containers/create?name=theirs', {
    Image: CHILD_IMAGE,
  });
  expect(created.status).toBe(201);
  expect(theirs.status).toBe(201);
  ownChild = created.body.Id as string;
  otherChild = theirs.body.Id as string;
});

afterAll(async () => {
  await Promise.all([mine?.cleanup(), other?.cleanup()]);
});

afterEach(async () => {
  // Nothing an attack sent may have made a container: the instance still has just its one.
  expect(await childrenOnEngine(mine.engine, mine.instanceId)).toEqual([ownChild]);
  mine.denials.length = 0;
});

/** Sends a create and expects it refused with `status` and a message containing `words`. */
async function refusedCreate(body: unknown, status: number, words: string, reason = 'create_policy') {
  mine.denials.length = 0;
  const answer = await callProxy(mine.socketPath, 'POST', '/v1.41/containers/create', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.message).toContain(words);
  expect(mine.denials).toEqual([{ endpoint: 'POST /containers/create', reason }]);
}

const image = CHILD_IMAGE;

describe('endpoints that reach beyond running containers', () => {
  test.each([
    ['POST', '/build'],
    ['POST', '/v1.41/build?t=evil'],
    ['POST', '/session'],
    ['POST', '/volumes/create'],
    ['GET', '/volumes'],
    ['POST', '/networks/create'],
    ['POST', '/networks/bridge/connect'],
    ['GET', '/plugins'],
    ['POST', '/plugins/pull?remote=evil'],
    ['POST', '/swarm/init'],
    ['GET', '/services'],
    ['GET', '/system/df'],
    ['POST', '/containers/prune'],
    ['GET', '/images/json'],
    ['POST', '/images/create?fromImage=alpine'],
    ['POST', '/images/load'],
  ])('%s %s is refused', async (method, path) => {
    const answer = await callProxy(mine.socketPath, method, path, method === 'POST' ? {} : undefined);
    expect(answer.status).toBe(403);
    expect(answer.body.message).toMatch(/^boilerhouse: .* is not allowed: this socket serves/);
    expect(mine.denials).toEqual([{ endpoint: 'unmatched', reason: 'endpoint' }]);
  });

  test("commit of the instance's own container is refused", async () => {
    const answer = await callProxy(mine.socketPath, 'POST', `/commit?container=${ownChild}&repo=evil`, {});
    expect(answer.status).toBe(403);
  });

  test("export of the instance's own container is refused", async () => {
    expect((await callProxy(mine.socketPath, 'GET', `/containers/${ownChild}/export`)).status).toBe(403);
  });

  test("archive (docker cp) of the instance's own container is refused", async () => {
    expect((await callProxy(mine.socketPath, 'GET', `/containers/${ownChild}/archive?path=/`)).status).toBe(
      403,
    );
    expect(
      (await callProxy(mine.socketPath, 'PUT', `/containers/${ownChild}/archive?path=/`, 'x')).status,
    ).toBe(403);
  });
});

describe("another instance's containers", () => {
  test('archive of a container that is not a child is refused', async () => {
    const answer = await callProxy(mine.socketPath, 'GET', `/containers/${otherChild}/archive?path=/etc`);
    expect(answer.status).toBe(403);
  });

  test('export of a container that is not a child is refused', async () => {
    expect((await callProxy(mine.socketPath, 'GET', `/containers/${otherChild}/export`)).status).toBe(403);
  });

  test.each([
    ['GET', '/containers/{id}/json'],
    ['POST', '/containers/{id}/start'],
    ['POST', '/containers/{id}/stop'],
    ['POST', '/containers/{id}/kill'],
    ['POST', '/containers/{id}/wait'],
    ['GET', '/containers/{id}/logs?stdout=1'],
    ['POST', '/containers/{id}/attach?stream=1&stdout=1'],
    ['DELETE', '/containers/{id}?force=1'],
  ])('%s %s of it answers 404, as for a container that does not exist', async (method, template) => {
    for (const reference of [otherChild, otherChild.slice(0, 12), 'theirs', `${other.instanceId}_theirs`]) {
      const answer = await callProxy(mine.socketPath, method, template.replace('{id}', reference));
      expect(answer.status).toBe(404);
      expect(answer.body.message).toBe(`No such container: ${reference}`);
    }
    const missing = await callProxy(mine.socketPath, method, template.replace('{id}', 'no-such-one'));
    expect(missing.body.message).toBe('No such container: no-such-one');
    // Counted as refusals when the container exists (by id, id prefix or engine name), not when it does not
    // ("theirs" is only a name in the other instance's own namespace).
    expect(mine.denials.filter((denial) => denial.reason === 'not_own_container')).toHaveLength(3);
    expect(await childrenOnEngine(other.engine, other.instanceId)).toEqual([otherChild]);
  });

  test('it is not listed, and its events are not shown', async () => {
    const filters = encodeURIComponent(
      JSON.stringify({ label: [`boilerhouse.child.parent=${other.instanceId}`] }),
    );
    for (const query of ['all=1', `all=1&filters=${filters}`]) {
      const list = await callProxy(mine.socketPath, 'GET', `/containers/json?${query}`);
      const ids = (list.body as unknown as { Id: string }[]).map((entry) => entry.Id);
      expect(ids).toEqual(query === 'all=1' ? [ownChild] : []);
    }
    // Events up to a second from now: both containers' create events are among them on the engine.
    const now = Math.floor(Date.now() / 1000);
    const events = await rawExchange(
      mine.socketPath,
      `GET /events?since=${now - 600}&until=${now + 1} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`,
    );
    expect(events).toContain(ownChild);
    expect(events).not.toContain(otherChild);
    expect(events).not.toContain(other.instanceId);
  });

  test('exec in it is refused (exec is off here, and it is not a child anyway)', async () => {
    const answer = await callProxy(mine.socketPath, 'POST', `/containers/${otherChild}/exec`, {
      Cmd: ['id'],
    });
    expect(answer.status).toBe(403);
    expect(answer.body.message).toContain('exec is not enabled for this workload');
  });
});

describe('path tricks', () => {
  test.each([
    '/v1.41//containers/create',
    '//containers/create',
    '/./containers/create',
    '/v1.41/./containers/create',
    '/containers/x/../create',
    '/containers/%63reate',
    '/v1.41%2Fcontainers/create',
    '/v1.99/containers/create',
    '/v1.041/containers/create',
  ])('POST %s is refused', async (path) => {
    const answer = await callProxy(mine.socketPath, 'POST', path, {
      Image: image,
      HostConfig: { Privileged: true },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^boilerhouse: request path .* is refused/);
    expect(mine.denials).toEqual([{ endpoint: 'unmatched', reason: 'path' }]);
  });

  test('a second version prefix is no endpoint', async () => {
    const answer = await callProxy(mine.socketPath, 'POST', '/v1.41/v1.41/containers/create', {
      Image: image,
    });
    expect(answer.status).toBe(403);
  });
});

describe('upgraded connections', () => {
  test('bytes sent after an attach the engine refuses never reach the engine as a request of their own', async () => {
    const name = `smuggled-${mine.instanceId}`;
    const smuggled = JSON.stringify({ Image: image, HostConfig: { Privileged: true } });
    const text = await rawExchange(
      mine.socketPath,
      `POST /containers/${ownChild}/attach?stream=1&stdout=1&detachKeys=ctrl-%25 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n` +
        `POST /v1.41/containers/create?name=${name} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('Invalid detach keys');
    expect(await mine.engine.call('GET', `/containers/${name}/json`).catch((error) => error.status)).toBe(
      404,
    );
  });

  test('an upgrade is refused on endpoints that do not stream', async () => {
    const text = await rawExchange(
      mine.socketPath,
      `POST /containers/create HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(parseResponse(text)).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('cannot be upgraded') },
    });
  });
});

describe('bodies', () => {
  test("Content-Length: 0 followed by a body (CVE-2024-41110's shape) creates nothing", async () => {
    const body = JSON.stringify({ Image: image, HostConfig: { Privileged: true, Binds: ['/:/host'] } });
    const text = await rawExchange(
      mine.socketPath,
      `POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n${body}`,
    );
    // The create is refused for its empty body; the bytes after it are no request at all (the parser
    // answers that first and hangs up).
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(mine.denials.map((denial) => denial.reason).sort()).toEqual(['body', 'malformed_request']);
  });

  test('a body over the limit is refused with 413, before it is read', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 10, 'a');
    const head = `POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`;
    const answer = parseResponse(await rawExchange(mine.socketPath, Buffer.concat([Buffer.from(head), big])));
    expect(answer.status).toBe(413);
    expect(mine.denials).toEqual([{ endpoint: 'POST /containers/create', reason: 'body_too_large' }]);
  });

  test('a chunked body over the limit is refused with 413', async () => {
    const chunk = 'a'.repeat(64 * 1024);
    const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const text = await rawExchange(
      mine.socketPath,
      `POST /containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    expect(parseResponse(text).status).toBe(413);
  });

  test.each([
    [
      'Content-Length with Transfer-Encoding',
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    ['an obfuscated Transfer-Encoding', 'Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['chunked, then identity', 'Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['two Content-Lengths', 'Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}'],
    ['a bad chunk size', 'Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
    ['a space before the colon', 'Transfer-Encoding : chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'],
  ])('chunked trickery: %s is refused', async (_, rest) => {
    const text = await rawExchange(
      mine.socketPath,
      `POST /containers/create HTTP/1.1\r\nHost: docker\r\n${rest}`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(mine.denials.length).toBeGreaterThan(0);
  });

  test('an empty create body is refused', async () => {
    await refusedCreate('', 400, 'container create needs a JSON body; it was empty', 'body');
  });

  test('a body that is not JSON, or JSON with something after it, is refused', async () => {
    await refusedCreate(
      `{"Image":"${image}"}{"HostConfig":{"Privileged":true}}`,
      400,
      'unexpected text after the value',
      'body',
    );
  });
});

describe('create requests', () => {
  test('a health check every millisecond (the engine would exec on the host a thousand times a second)', async () => {
    await refusedCreate(
      { Image: image, Healthcheck: { Test: ['CMD', 'true'], Interval: 1_000_000, Retries: 1 } },
      403,
      'Healthcheck.Interval 1 ms is refused',
    );
  });

  test('{"HostConfig":{"privileged":true}} in lower case', async () => {
    await refusedCreate(
      `{"Image":"${image}","HostConfig":{"privileged":true}}`,
      403,
      'HostConfig.Privileged is refused',
    );
  });

  test('duplicate Privileged keys, the last one true', async () => {
    await refusedCreate(
      `{"Image":"${image}","HostConfig":{"Privileged":false,"Privileged":true}}`,
      403,
      'HostConfig.Privileged is refused',
    );
  });

  test('duplicate Privileged keys in different cases, the true one first in JSON.parse order', async () => {
    await refusedCreate(
      `{"Image":"${image}","HostConfig":{"Privileged":true,"privileged":false,"Privileged":true}}`,
      403,
      'HostConfig.Privileged is refused',
    );
  });

  test('a second HostConfig object that would merge into the first', async () => {
    await refusedCreate(
      `{"Image":"${image}","HostConfig":{"Privileged":true},"hostconfig":{"Memory":1048576}}`,
      403,
      'HostConfig.Privileged is refused',
    );
  });

  test('privileged through the deprecated top-level host config', async () => {
    await refusedCreate({ Image: image, Privileged: true }, 403, 'Privileged at the top level');
  });

  test('added capabilities', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { CapAdd: ['SYS_ADMIN'] } },
      403,
      'HostConfig.CapAdd "SYS_ADMIN" is refused: the workload does not grant it',
    );
  });

  test('added capabilities in lower case, given as a string', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { capadd: 'NET_ADMIN' } },
      403,
      'HostConfig.CapAdd "NET_ADMIN" is refused: the workload does not grant it',
    );
  });

  test('devices', async () => {
    await refusedCreate(
      {
        Image: image,
        HostConfig: {
          Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }],
        },
      },
      403,
      'HostConfig.Devices is refused',
    );
  });

  test('device cgroup rules', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { DeviceCgroupRules: ['b 8:* rwm'] } },
      403,
      'HostConfig.DeviceCgroupRules is refused',
    );
  });

  test('device requests (GPUs)', async () => {
    await refusedCreate(
      {
        Image: image,
        HostConfig: { DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] },
      },
      403,
      'HostConfig.DeviceRequests is refused',
    );
  });

  test.each([
    ['PidMode', 'host', 'shares a PID namespace'],
    ['PidMode', 'container:{other}', 'shares a PID namespace'],
    ['IpcMode', 'host', 'shares a namespace'],
    ['IpcMode', 'container:{other}', 'shares a namespace'],
    ['UTSMode', 'host', 'shares a UTS namespace'],
    ['NetworkMode', 'host', 'shares a network namespace'],
    ['NetworkMode', 'container:{other}', 'shares a network namespace'],
    ['UsernsMode', 'host', 'changes the user namespace'],
    ['CgroupnsMode', 'host', 'shares a namespace'],
  ])('HostConfig.%s %s', async (field, value, words) => {
    await refusedCreate(
      { Image: image, HostConfig: { [field]: value.replace('{other}', otherChild) } },
      403,
      `HostConfig.${field}`,
    );
    expect(
      (
        await callProxy(mine.socketPath, 'POST', '/containers/create', {
          Image: image,
          HostConfig: { [field]: value.replace('{other}', otherChild) },
        })
      ).body.message,
    ).toContain(words);
  });

  test.each([
    'seccomp=unconfined',
    'apparmor=unconfined',
    'label=disable',
    'label:type:spc_t',
    'systempaths=unconfined',
  ])('HostConfig.SecurityOpt %s', async (option) => {
    await refusedCreate(
      { Image: image, HostConfig: { SecurityOpt: [option] } },
      403,
      `SecurityOpt ${JSON.stringify(option)} is refused`,
    );
  });

  test('security options spelt with a long s', async () => {
    await refusedCreate(
      `{"Image":"${image}","HostConfig":{"\u017fecurityOpt":["seccomp=unconfined"]}}`,
      403,
      'SecurityOpt "seccomp=unconfined" is refused',
    );
  });

  test('unmasked /proc paths', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { MaskedPaths: [] } },
      403,
      'HostConfig.MaskedPaths is refused',
    );
  });

  test('sysctls', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { Sysctls: { 'kernel.shm_rmid_forced': '1' } } },
      403,
      'HostConfig.Sysctls is refused',
    );
  });

  test('a cgroup parent', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { CgroupParent: '/' } },
      403,
      'HostConfig.CgroupParent is refused',
    );
  });

  test('OOM-kill disabled', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { OomKillDisable: true } },
      403,
      'HostConfig.OomKillDisable is refused',
    );
  });

  test("a log driver that ships output from the host to an address of the caller's choosing", async () => {
    await refusedCreate(
      {
        Image: image,
        HostConfig: { LogConfig: { Type: 'syslog', Config: { 'syslog-address': 'tcp://203.0.113.1:514' } } },
      },
      403,
      'HostConfig.LogConfig.Type "syslog" is refused',
    );
  });

  test('published ports', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { PortBindings: { '22/tcp': [{ HostIp: '0.0.0.0', HostPort: '2222' }] } } },
      403,
      'HostConfig.PortBindings is refused',
    );
  });

  test('a Mounts entry of type bind to /', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] } },
      403,
      `bind source "/" is outside the instance's volumes (/data)`,
      'bind',
    );
  });

  test('a Binds entry of the host root', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { Binds: ['/:/host'] } },
      403,
      'outside the instance',
      'bind',
    );
  });

  test('a bind of the docker socket', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] } },
      403,
      'outside the instance',
      'bind',
    );
  });

  test('a bind that climbs out of a volume with ..', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { Binds: ['/data/../../../etc:/x'] } },
      403,
      'without //, . or .. segments',
      'bind',
    );
  });

  test('a bind of a symlink inside the volume that points at /', async () => {
    await symlink('/', join(mine.stateDir, 'escape'));
    await refusedCreate(
      { Image: image, HostConfig: { Binds: ['/data/escape:/host'] } },
      403,
      'is a symlink',
      'bind',
    );
  });

  test('a bind whose path runs through a symlink to /etc', async () => {
    await symlink('/etc', join(mine.stateDir, 'etc-link'));
    await refusedCreate(
      { Image: image, HostConfig: { Binds: ['/data/etc-link/ssh:/x'] } },
      403,
      'leads outside the instance',
      'bind',
    );
  });

  test('a local volume driver with o=bind', async () => {
    await refusedCreate(
      {
        Image: image,
        HostConfig: {
          Mounts: [
            {
              Type: 'volume',
              Target: '/host',
              VolumeOptions: {
                DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } },
              },
            },
          ],
        },
      },
      403,
      'VolumeOptions.DriverConfig is refused',
    );
  });

  test('a named volume (another instance could name it too)', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { Binds: ['shared-volume:/x'] } },
      403,
      'named volumes are not available',
    );
    await refusedCreate(
      { Image: image, HostConfig: { Mounts: [{ Type: 'volume', Source: 'shared-volume', Target: '/x' }] } },
      403,
      'named volumes',
    );
  });

  test('a volume driver', async () => {
    await refusedCreate(
      { Image: image, HostConfig: { VolumeDriver: 'local' } },
      403,
      'HostConfig.VolumeDriver is refused',
    );
  });

  test("another container's volumes", async () => {
    await refusedCreate(
      { Image: image, HostConfig: { VolumesFrom: [otherChild] } },
      403,
      'HostConfig.VolumesFrom is refused',
    );
  });

  test('an image outside the allowlist', async () => {
    await refusedCreate(
      { Image: 'boilerhouse/echo:latest' },
      403,
      'is not allowed for this workload',
      'image',
    );
  });

  test('an image by id', async () => {
    const id = (await mine.engine.json<{ Id: string }>('GET', `/images/${image}/json`)).Id;
    await refusedCreate({ Image: id }, 403, 'ids are refused', 'image');
    await refusedCreate(
      { Image: id.slice('sha256:'.length, 'sha256:'.length + 12) },
      403,
      'is not allowed',
      'image',
    );
  });

  test("Boilerhouse's own labels, to pass as another instance's child", async () => {
    await refusedCreate(
      { Image: image, Labels: { 'boilerhouse.child.parent': other.instanceId } },
      403,
      'label "boilerhouse.child.parent" is refused',
    );
  });

  test('more containers than docker.max_containers', async () => {
    const made: string[] = [];
    for (let index = 0; index < 2; index++) {
      const answer = await callProxy(mine.socketPath, 'POST', '/containers/create', { Image: image });
      made.push(answer.body.Id as string);
    }
    await refusedCreate(
      { Image: image },
      403,
      'already has 3 containers, the most it may have',
      'container_limit',
    );
    for (const id of made)
      expect((await callProxy(mine.socketPath, 'DELETE', `/containers/${id}`)).status).toBe(204);
  });

  test('a refusal is logged with instance, endpoint and reason, and never the body', async () => {
    mine.logs.length = 0;
    await refusedCreate(
      {
        Image: image,
        Env: ['ANTHROPIC_API_KEY=sk-secret-value'],
        Cmd: ['echo', 'sk-secret-value'],
        HostConfig: { Privileged: true },
      },
      403,
      'Privileged',
    );
    const line = JSON.parse(mine.logs.at(-1) as string) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'warn',
      instance: mine.instanceId,
      endpoint: 'POST /containers/create',
      reason: 'create_policy',
    });
    expect(mine.logs.join('\n')).not.toContain('sk-secret-value');
  });
});
