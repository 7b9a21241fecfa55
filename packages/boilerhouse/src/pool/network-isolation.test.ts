/**
 * Each tenant's instance and its children on a network of their own (the attack run that read another
 * tenant's chat at `<its address>:3847`): from inside tenant A's instance, as its own user, nothing of
 * tenant B and nothing of the host answers, while A's own child and the daemon's probes still get through.
 */

import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseHostPorts } from '../config.ts';
import { callProxy } from '../proxy/testing.ts';
import { ISOLATION_CHAIN, isolationRules } from '../runtime/network-isolation.ts';
import { bridgeName } from '../runtime/networks.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';
import type { ClaimResult } from './claims.ts';
import { instanceNetworkName } from './instance-network.ts';

const CHILD_IMAGE = 'boilerhouse/echo:latest';
const DOCKER_BLOCK = `
docker:
  images: ["boilerhouse/echo:*"]
  max_containers: 2
`;
/** How long a probe waits for a connection that is dropped rather than refused. */
const PROBE_TIMEOUT_MS = 1500;

/** Connects to every target at once from inside a container; prints one outcome per target. */
const PROBE = `
const net = require('node:net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((done) => {
  const socket = net.connect({ host, port });
  const timer = setTimeout(() => { socket.destroy(); done('timeout'); }, ${PROBE_TIMEOUT_MS});
  socket.on('connect', () => { clearTimeout(timer); socket.destroy(); done('connected'); });
  socket.on('error', (error) => { clearTimeout(timer); done(error.code); });
}))).then((outcomes) => console.log(JSON.stringify(outcomes)));
`;

let harness: Harness;
let alice: ClaimResult;
let bob: ClaimResult;
let listener: Server;

beforeAll(async () => {
  const iso = `${await echoWorkload({ 'id: echo': 'id: iso', 'min_idle: 2': 'min_idle: 0' })}${DOCKER_BLOCK}`;
  const offline = `${await echoWorkload({
    'id: echo': 'id: offline',
    'min_idle: 2': 'min_idle: 0',
    'expose: [8080]': 'expose: []\nnetwork_mode: none',
  })}${DOCKER_BLOCK}`;
  harness = await startHarness({ 'iso.yaml': iso, 'offline.yaml': offline });
  [alice, bob] = await Promise.all([
    harness.boilerhouse.claim('alice', 'iso'),
    harness.boilerhouse.claim('bob', 'iso'),
  ]);
  // A host service on every address, as the daemon's API or anything else listening on 0.0.0.0 is.
  listener = createServer(answerOnce('host service\n'));
  await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
  await harness?.cleanup();
  // However many daemons ran here, the host rules are there once.
  const jumps = (await isolationRules()).filter((rule) => rule.startsWith('-A INPUT'));
  expect(jumps).toEqual([`-A INPUT -i bh+ -j ${ISOLATION_CHAIN}`]);
});

/** A host service's connection handler: the probes hang up at once, which resets the connection. */
function answerOnce(text: string): (socket: Socket) => void {
  return (socket) => {
    socket.on('error', () => {});
    socket.end(text);
  };
}

function socketOf(claim: ClaimResult): string {
  return join(harness.dataDir, 'instances', claim.instance.id, 'docker', 'docker.sock');
}

/** Starts a child through the instance's own filtered socket; its engine id. */
async function startChild(claim: ClaimResult, name: string): Promise<string> {
  const created = await callProxy(socketOf(claim), 'POST', `/containers/create?name=${name}`, {
    Image: CHILD_IMAGE,
    Env: ['STATE_DIR=/tmp'],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.Id as string;
  expect((await callProxy(socketOf(claim), 'POST', `/containers/${id}/start`)).status).toBe(204);
  return id;
}

/**
 * Every IPv4 address of this host but loopback, from the kernel's local routes (os.networkInterfaces()
 * leaves out interfaces that are down, such as docker0 with nothing on it, which still answer).
 */
async function localAddresses(): Promise<string[]> {
  const trie = await readFile('/proc/net/fib_trie', 'utf8');
  const addresses = new Set<string>();
  const lines = trie.split('\n');
  for (const [i, line] of lines.entries()) {
    const address = /\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line)?.[1];
    if (address !== undefined && /\/32 host LOCAL/.test(lines[i + 1] ?? '') && !address.startsWith('127.'))
      addresses.add(address);
  }
  return [...addresses];
}

async function addressOf(containerId: string): Promise<string> {
  const info = await harness.runtime.inspect(containerId);
  if (info?.ipAddress === undefined) throw new Error(`container ${containerId} has no address`);
  return info.ipAddress;
}

/** Outcome of connecting to each target from inside a container, as the container's own user. */
async function probe(containerId: string, targets: [string, number][]): Promise<string[]> {
  const result = await harness.runtime.exec(containerId, ['node', '-e', PROBE, JSON.stringify(targets)], {
    timeoutMs: PROBE_TIMEOUT_MS + 10_000,
  });
  expect(result.exitCode, result.output).toBe(0);
  return JSON.parse(result.output.trim().split('\n').at(-1) ?? '[]') as string[];
}

/** Until the server in it listens. */
async function waitListening(containerId: string, from: string, address: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await probe(from, [[address, 8080]]))[0] === 'connected') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${containerId} never listened on ${address}:8080`);
}

describe('two tenants on the same host', () => {
  let aliceChild: string;
  let bobChild: string;

  beforeAll(async () => {
    [aliceChild, bobChild] = await Promise.all([startChild(alice, 'server'), startChild(bob, 'server')]);
  }, 30_000);

  test("each instance and its children are on the instance's own network, and on nothing else", async () => {
    for (const [claim, child] of [
      [alice, aliceChild],
      [bob, bobChild],
    ] as const) {
      const network = instanceNetworkName(harness.boilerhouse.daemonId, claim.instance.id);
      for (const id of [claim.instance.containerId as string, child]) {
        const raw = await harness.runtime.engine.json<{
          NetworkSettings: { Networks: Record<string, unknown> };
        }>('GET', `/containers/${id}/json`);
        expect(Object.keys(raw.NetworkSettings.Networks)).toEqual([network]);
      }
    }
    // The runtime reports the instance's address on its network, which the row records.
    expect(alice.instance.address).toBe(await addressOf(alice.instance.containerId as string));
  });

  test("A's child reaches A's instance and A reaches its child", async () => {
    const aliceAddress = alice.instance.address as string;
    const childAddress = await addressOf(aliceChild);
    await waitListening(aliceChild, alice.instance.containerId as string, childAddress);
    expect(await probe(aliceChild, [[aliceAddress, 8080]])).toEqual(['connected']);
  });

  test('from inside A, nothing of B and nothing of the host answers', async () => {
    const bobAddress = bob.instance.address as string;
    const bobChildAddress = await addressOf(bobChild);
    // Bob's child does listen: his own instance gets through, so a timeout from A means isolation.
    await waitListening(bobChild, bob.instance.containerId as string, bobChildAddress);
    const bobPort = bob.instance.ports[0]?.hostPort as number;
    const listenerPort = (listener.address() as { port: number }).port;
    const networks = await harness.networks();
    const gateways = networks.map((network) => network.gateway as string);
    expect(gateways).toHaveLength(2);
    const hostAddresses = new Set([...gateways, ...(await localAddresses())]);
    // Both gateways, docker0 and the LAN address at least.
    expect(hostAddresses.size).toBeGreaterThanOrEqual(4);
    const targets: [string, number][] = [
      [bobAddress, 8080],
      [bobChildAddress, 8080],
      ['127.0.0.1', bobPort],
      ...[...hostAddresses].flatMap((host): [string, number][] => [
        [host, bobPort],
        [host, listenerPort],
      ]),
    ];
    const outcomes = await probe(alice.instance.containerId as string, targets);
    const reached = targets.filter((_, i) => outcomes[i] === 'connected');
    expect(reached).toEqual([]);
    // The child too: it has the same network, and nothing more.
    expect((await probe(aliceChild, targets)).filter((outcome) => outcome === 'connected')).toEqual([]);
  }, 30_000);

  test("B's published port still answers from the host, where the daemon probes it", async () => {
    const response = await fetch(`${bob.endpoints[0]?.url}/health`);
    expect(response.status).toBe(200);
  });

  test("a child naming any network but its instance's own is refused, and says so", async () => {
    const bobNetwork = instanceNetworkName(harness.boilerhouse.daemonId, bob.instance.id);
    const attempts = [
      { HostConfig: { NetworkMode: 'bridge' } },
      { HostConfig: { NetworkMode: bobNetwork } },
      { HostConfig: { NetworkMode: 'host' } },
      { HostConfig: { NetworkMode: `container:${bob.instance.containerId}` } },
      { NetworkingConfig: { EndpointsConfig: { [bobNetwork]: {} } } },
    ];
    for (const attempt of attempts) {
      const answer = await callProxy(socketOf(alice), 'POST', '/containers/create', {
        Image: CHILD_IMAGE,
        ...attempt,
      });
      expect(answer.status, JSON.stringify(attempt)).toBe(403);
      expect(answer.body.message).toMatch(/NetworkMode .* is refused|EndpointsConfig.* is refused/);
    }
  });
});

describe('an instance with network_mode: none', () => {
  test('has no network at all, and neither do its children', async () => {
    const claim = await harness.boilerhouse.claim('carol', 'offline');
    const networks = await harness.networks();
    expect(networks.map((network) => network.labels['boilerhouse.instance'])).not.toContain(
      claim.instance.id,
    );
    const child = await startChild(claim, 'offline-child');
    const raw = await harness.runtime.engine.json<{ HostConfig: { NetworkMode: string } }>(
      'GET',
      `/containers/${child}/json`,
    );
    expect(raw.HostConfig.NetworkMode).toBe('none');
    const bridge = await callProxy(socketOf(claim), 'POST', '/containers/create', {
      Image: CHILD_IMAGE,
      HostConfig: { NetworkMode: 'bridge' },
    });
    expect(bridge.status).toBe(403);
    expect(bridge.body.message).toContain('the instance has no network, so neither do its containers');
  });
});

describe('lifecycle', () => {
  test("an instance's network goes with it, after its children", async () => {
    const claim = await harness.boilerhouse.claim('dave', 'iso');
    await startChild(claim, 'doomed');
    const name = instanceNetworkName(harness.boilerhouse.daemonId, claim.instance.id);
    expect((await harness.networks()).map((network) => network.name)).toContain(name);
    await harness.boilerhouse.destroy(claim.instance.id);
    expect((await harness.networks()).map((network) => network.name)).not.toContain(name);
  });

  test('a restart removes networks this daemon made that no instance names', async () => {
    const daemonId = harness.boilerhouse.daemonId;
    const stray = await harness.runtime.createNetwork({
      name: instanceNetworkName(daemonId, 'iso-gone'),
      labels: { 'boilerhouse.daemon': daemonId, 'boilerhouse.instance': 'iso-gone' },
      outbound: true,
      members: 1,
    });
    const restarted = await harness.restart();
    const names = (await harness.networks()).map((network) => network.name);
    expect(names).not.toContain(stray.name);
    // The claimed instances' networks are theirs still.
    expect(names).toContain(instanceNetworkName(daemonId, alice.instance.id));
    const report = restarted.events(50).find((event) => event.type === 'daemon.recovered');
    expect(report?.data).toMatchObject({ strayNetworks: 1 });
  }, 30_000);
});

describe('host ports the operator names (BOILERHOUSE_HOST_PORTS)', () => {
  test('an instance reaches a named port of the host and no other; the allowance goes with its network', async () => {
    const allowed = createServer(answerOnce('model gateway\n'));
    const other = createServer(answerOnce('anything else\n'));
    await Promise.all(
      [allowed, other].map((server) => new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))),
    );
    const portOf = (server: Server) => (server.address() as { port: number }).port;
    const own = await startHarness(
      { 'iso.yaml': await echoWorkload({ 'id: echo': 'id: iso', 'min_idle: 2': 'min_idle: 0' }) },
      { hostPorts: [portOf(allowed)] },
    );
    try {
      const claim = await own.boilerhouse.claim('erin', 'iso');
      const [network] = await own.networks();
      const gateway = network?.gateway as string;
      const outcomes = await own.runtime.exec(
        claim.instance.containerId as string,
        [
          'node',
          '-e',
          PROBE,
          JSON.stringify([
            [gateway, portOf(allowed)],
            [gateway, portOf(other)],
          ]),
        ],
        { timeoutMs: PROBE_TIMEOUT_MS + 10_000 },
      );
      expect(JSON.parse(outcomes.output.trim().split('\n').at(-1) ?? '[]')).toEqual(['connected', 'timeout']);
      const bridge = bridgeName(network?.name as string);
      const rules = async () => (await isolationRules()).filter((rule) => rule.includes(bridge));
      expect(await rules()).toHaveLength(1);
      await own.boilerhouse.destroy(claim.instance.id);
      expect(await rules()).toEqual([]);
    } finally {
      await own.cleanup();
      await Promise.all([allowed, other].map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }, 60_000);

  test('the setting is checked: ports only, at most 15, never the API port', () => {
    expect(parseHostPorts(undefined, 7070)).toEqual([]);
    expect(parseHostPorts(' 4000, 8080 ', 7070)).toEqual([4000, 8080]);
    expect(() => parseHostPorts('4000,x', 7070)).toThrow(/"x" is not a port/);
    expect(() => parseHostPorts('0', 7070)).toThrow(/"0" is not a port/);
    expect(() => parseHostPorts('7070', 7070)).toThrow(/API's port/);
    expect(() => parseHostPorts(Array.from({ length: 16 }, (_, i) => 4000 + i).join(','), 7070)).toThrow(
      /up to 15/,
    );
  });
});
