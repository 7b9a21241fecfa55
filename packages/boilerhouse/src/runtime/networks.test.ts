/**
 * Instance networks on the real engine: subnets from the pool around what is taken, the bridge options
 * the isolation rules rely on, and the host rules installed once however many daemons start at once.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, expect, test } from 'vitest';
import { DockerRuntime } from './docker.ts';
import { HOST_PORTS_CHAIN, ISOLATION_CHAIN, isolationRules } from './network-isolation.ts';
import { parseRoutes } from './networks.ts';
import { formatSubnet, overlaps, parseSubnet, type Subnet } from './subnets.ts';

const runId = randomBytes(4).toString('hex');
const runLabel = { 'boilerhouse.test': runId };
// A /24 of its own, so that other tests' networks never take the blocks this one expects.
const pool = `10.213.${randomInt(256)}.0/24`;
const runtime = new DockerRuntime({ networkPool: pool });
let count = 0;

afterAll(async () => {
  for (const network of await runtime.listNetworks(runLabel)) await runtime.removeNetwork(network.name);
  runtime.close();
});

const network = (members = 1) => ({
  name: `bh-test-${runId}-${++count}`,
  labels: { ...runLabel, 'boilerhouse.role': 'test' },
  outbound: true,
  members,
});

interface RawNetwork {
  Internal: boolean;
  EnableIPv6: boolean;
  Options: Record<string, string>;
  IPAM: { Config: { Subnet: string; Gateway: string }[] };
}

test('a network gets the first free block of the pool, skipping one someone else holds', async () => {
  const base = pool.replace(/\.0\/24$/, '');
  await runtime.engine.call('POST', '/networks/create', {
    body: {
      Name: `bh-test-${runId}-foreign`,
      Labels: runLabel,
      IPAM: { Config: [{ Subnet: `${base}.0/28` }] },
    },
  });
  const first = await runtime.createNetwork(network());
  expect(first).toMatchObject({ subnet: `${base}.16/28`, gateway: `${base}.17` });
  const raw = await runtime.engine.json<RawNetwork>('GET', `/networks/${first.id}`);
  expect(raw.IPAM.Config).toEqual([{ Subnet: `${base}.16/28`, Gateway: `${base}.17` }]);
  expect(raw).toMatchObject({ Internal: false, EnableIPv6: false });
  expect(raw.Options['com.docker.network.bridge.enable_icc']).toBe('true');
  expect(raw.Options['com.docker.network.bridge.name']).toMatch(/^bh[0-9a-f]{10}$/);

  // Created at once, they still get blocks of their own; more children, a larger (aligned) block.
  const many = await Promise.all(
    [network(), network(), network(), network(20)].map((spec) => runtime.createNetwork(spec)),
  );
  const blocks = [`${base}.0/28`, ...many.map((created) => created.subnet as string)].map(
    (text) => parseSubnet(text) as Subnet,
  );
  for (const [i, block] of blocks.entries()) {
    expect(overlaps(block, parseSubnet(pool) as Subnet)).toBe(true);
    for (const other of blocks.slice(i + 1)) expect(overlaps(block, other)).toBe(false);
  }
  expect(blocks.map((block) => block.prefix)).toEqual([28, 28, 28, 28, 27]);
});

test('listing finds networks by label; removing twice is fine, and a missing network is not an error', async () => {
  const created = await runtime.createNetwork(network());
  const listed = await runtime.listNetworks({ ...runLabel, 'boilerhouse.role': 'test' });
  expect(listed.map((entry) => entry.name)).toContain(created.name);
  expect(listed.find((entry) => entry.name === created.name)).toEqual(created);
  await runtime.removeNetwork(created.name);
  await runtime.removeNetwork(created.name);
  expect((await runtime.listNetworks(runLabel)).map((entry) => entry.name)).not.toContain(created.name);
});

test('a pool that a host route covers has no free block, and the error says which setting', async () => {
  const routes = parseRoutes(await readFile('/proc/net/route', 'utf8')).filter((route) => route.prefix <= 28);
  const covered = routes.find((route) => !formatSubnet(route).startsWith('172.17.'));
  if (covered === undefined) throw new Error('this host has no route but the default one to test with');
  const local = new DockerRuntime({ networkPool: formatSubnet(covered) });
  try {
    await expect(local.createNetwork(network())).rejects.toThrow(/BOILERHOUSE_NETWORK_POOL/);
  } finally {
    local.close();
  }
});

test('the host rules are installed once, however many daemons start at once', async () => {
  const runtimes = Array.from({ length: 4 }, () => new DockerRuntime());
  await Promise.all(runtimes.map((each) => each.isolateNetworks()));
  for (const each of runtimes) each.close();
  const rules = await isolationRules();
  expect(rules.filter((rule) => rule.startsWith('-A INPUT'))).toEqual([
    `-A INPUT -i bh+ -j ${ISOLATION_CHAIN}`,
  ]);
  expect(rules.filter((rule) => rule.startsWith(`-A ${ISOLATION_CHAIN}`))).toEqual([
    `-A ${ISOLATION_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `-A ${ISOLATION_CHAIN} -j ${HOST_PORTS_CHAIN}`,
    `-A ${ISOLATION_CHAIN} -j DROP`,
  ]);
});

test('a bad pool setting is refused with its name and the value given', () => {
  for (const bad of ['172.30.0.0/29', 'fd00::/64', '172.30.0.0']) {
    expect(() => new DockerRuntime({ networkPool: bad })).toThrow(
      new RegExp(`BOILERHOUSE_NETWORK_POOL .*got "${bad.replace(/[./]/g, '\\$&')}"`),
    );
  }
});
