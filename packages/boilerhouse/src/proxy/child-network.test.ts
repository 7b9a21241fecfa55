/** The create policy's network rule: a child joins its instance's own network or none, never another. */
import type { DockerAccessSpec } from '@boilerhouse/spec';
import { expect, test } from 'vitest';
import { type ChildPolicy, checkCreate } from './create-policy.ts';
import { CREATE_BODY } from './create-schema.ts';
import { ProxyDenial } from './denial.ts';
import { decode, type GoStruct } from './go-decode.ts';
import { parseJson } from './go-json.ts';

const ACCESS = {
  images: ['agent:*'],
  maxContainers: 3,
  limits: { cpus: 0.5, memory: 64 * 1024 * 1024, pids: 64 },
  exec: false,
  readOnly: true,
  onRelease: 'remove',
  capabilities: [],
} as DockerAccessSpec;
const OWN = 'boilerhouse-d1-nanoclaw-0a1b2c3d4e';
const POLICY = { access: ACCESS, networkMode: OWN, runAs: { uid: 1000, gid: 1000 } } as ChildPolicy;

function networkOf(body: GoStruct, policy: ChildPolicy = POLICY): string {
  const checked = checkCreate(decode(parseJson(JSON.stringify(body)), CREATE_BODY) as GoStruct, policy);
  return checked.body.HostConfig.NetworkMode as string;
}

function refusal(body: GoStruct, policy: ChildPolicy = POLICY): string {
  try {
    networkOf(body, policy);
  } catch (error) {
    if (error instanceof ProxyDenial) return error.message;
    throw error;
  }
  throw new Error('not refused');
}

test("unset, default or its own network's name: the instance's network; none stays none", () => {
  expect(networkOf({ Image: 'agent:1' })).toBe(OWN);
  expect(networkOf({ Image: 'agent:1', HostConfig: { NetworkMode: 'default' } })).toBe(OWN);
  expect(networkOf({ Image: 'agent:1', HostConfig: { NetworkMode: OWN } })).toBe(OWN);
  expect(networkOf({ Image: 'agent:1', HostConfig: { NetworkMode: 'none' } })).toBe('none');
  // The docker CLI names the endpoint `default` when it was given no network.
  const cli = { Image: 'agent:1', NetworkingConfig: { EndpointsConfig: { default: { Aliases: null } } } };
  expect(networkOf(cli)).toBe(OWN);
});

test("Docker's bridge, the host's, another container's or another instance's network is refused", () => {
  const join = "its containers join the instance's own network (leave NetworkMode unset) or none";
  expect(refusal({ Image: 'agent:1', HostConfig: { NetworkMode: 'bridge' } })).toContain(
    `HostConfig.NetworkMode "bridge" is refused: ${join}`,
  );
  expect(
    refusal({ Image: 'agent:1', HostConfig: { NetworkMode: 'boilerhouse-d1-other-9f8e7d6c5b' } }),
  ).toContain(join);
  expect(refusal({ Image: 'agent:1', HostConfig: { NetworkMode: 'host' } })).toContain(
    'shares a network namespace',
  );
  expect(refusal({ Image: 'agent:1', HostConfig: { NetworkMode: 'container:abc' } })).toContain(
    'shares a network namespace',
  );
  expect(
    refusal({ Image: 'agent:1', NetworkingConfig: { EndpointsConfig: { 'boilerhouse-d1-other': {} } } }),
  ).toContain('NetworkingConfig.EndpointsConfig["boilerhouse-d1-other"] is refused');
  // Its own network, but with an address picked: refused too.
  expect(
    refusal({
      Image: 'agent:1',
      NetworkingConfig: { EndpointsConfig: { [OWN]: { IPAMConfig: { IPv4Address: '172.30.0.9' } } } },
    }),
  ).toContain('without endpoint settings');
});

test('an instance without a network has children without one', () => {
  const none = { ...POLICY, networkMode: 'none' };
  expect(networkOf({ Image: 'agent:1' }, none)).toBe('none');
  expect(refusal({ Image: 'agent:1', HostConfig: { NetworkMode: OWN } }, none)).toContain(
    'the instance has no network, so neither do its containers',
  );
});
