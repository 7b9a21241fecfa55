/**
 * The filtered socket inside a real Boilerhouse instance: served when the workload has a `docker:` block,
 * mounted at /var/run/boilerhouse with DOCKER_HOST pointing at it, used from inside the container by
 * dockerode, kept (streams and all) across a daemon restart, and its children removed on release, on
 * destroy and (orphans) after a restart.
 */
import { chown, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Metrics } from '../metrics/metrics.ts';
import { EngineClient } from '../runtime/engine-client.ts';
import { echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';
import { CHILD_LABEL } from './children.ts';
import { CHILD_IMAGE, callProxy, rawExchange } from './testing.ts';

const NODE_MODULES = new URL('../../../../node_modules/', import.meta.url).pathname;
const engine = new EngineClient(process.env.DOCKER_HOST);
let tools: string;
let harness: Harness | undefined;

/** What the script in the instance does: an agent-style run through DOCKER_HOST, then a refused one. */
const AGENT_SCRIPT = `
const Docker = require('/tools/node_modules/dockerode');
const { PassThrough } = require('node:stream');
const docker = new Docker({ socketPath: process.env.DOCKER_HOST.slice('unix://'.length) });
(async () => {
  const result = { dockerHost: process.env.DOCKER_HOST, uid: process.getuid() };
  const container = await docker.createContainer({
    name: 'turn-1',
    Image: ${JSON.stringify(CHILD_IMAGE)},
    Cmd: ['sh', '-c', 'cat /workspace/CLAUDE.md; echo done > /workspace/reply.txt'],
    HostConfig: { Binds: ['/data/groups/main:/workspace'] },
  });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk) => { text += chunk; });
  container.modem.demuxStream(stream, out, out);
  const ended = new Promise((resolve) => stream.on('end', resolve));
  await container.start();
  result.wait = await container.wait();
  await ended;
  result.output = text;
  result.listed = (await docker.listContainers({ all: true })).map((entry) => entry.Names[0]);
  await container.remove();
  try {
    await docker.createContainer({ Image: ${JSON.stringify(CHILD_IMAGE)}, HostConfig: { Privileged: true } });
  } catch (error) {
    result.refused = { status: error.statusCode, message: error.json && error.json.message };
  }
  console.log(JSON.stringify(result));
})().catch((error) => { console.log(JSON.stringify({ error: String(error) })); });
`;

/** dockerode and what it loads, copied from the repository's node_modules (the echo image has node). */
async function prepareTools(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bh-proxy-tools-'));
  const seen = new Set<string>();
  const visit = async (name: string, from: string): Promise<void> => {
    for (let base = from; ; base = dirname(base)) {
      const candidate = join(base, 'node_modules', name);
      if (await stat(join(candidate, 'package.json')).catch(() => undefined)) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const manifest = JSON.parse(await readFile(join(candidate, 'package.json'), 'utf8'));
        for (const dependency of Object.keys(manifest.dependencies ?? {})) await visit(dependency, candidate);
        return;
      }
      if (base === dirname(NODE_MODULES)) throw new Error(`${name} is not installed`);
    }
  };
  await visit('dockerode', dirname(NODE_MODULES));
  for (const module of seen) {
    await cp(module, join(dir, 'node_modules', module.slice(NODE_MODULES.length)), { recursive: true });
  }
  await writeFile(join(dir, 'agent.cjs'), AGENT_SCRIPT);
  return dir;
}

/** The echo workload with a docker block; `docker` adds lines to that block. */
const workload = async (docker = '') =>
  (await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    '  state:\n    target: /data\n': `  state:\n    target: /data\n  custom:\n    - name: tools\n      target: /tools\n      read_only: true\n      seed: tools\n`,
  })) +
  `\ndocker:\n  images: ["${CHILD_IMAGE.split(':')[0]}:*"]\n  max_containers: 2\n  limits: { cpus: 0.5, memory: 64M, pids: 64 }\n${docker}`;

beforeAll(async () => {
  tools = await prepareTools();
});

afterAll(async () => {
  await rm(tools, { recursive: true, force: true });
  engine.close();
});

afterEach(async () => {
  if (harness === undefined) return;
  const daemonId = harness.boilerhouse.daemonId;
  await harness.cleanup();
  harness = undefined;
  // Children of instances the harness left are no instance's any more: gone too.
  for (const id of await childrenOf({ [CHILD_LABEL.daemon]: daemonId })) {
    await engine.call('DELETE', `/containers/${id}?force=1&v=1`);
  }
});

async function childrenOf(labels: Record<string, string>): Promise<string[]> {
  const filters = JSON.stringify({ label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) });
  const list = await engine.json<{ Id: string }[]>(
    'GET',
    `/containers/json?all=1&filters=${encodeURIComponent(filters)}`,
  );
  return list.map((container) => container.Id);
}

const socketOf = (h: Harness, instance: string) =>
  join(h.dataDir, 'instances', instance, 'docker', 'docker.sock');

async function claimWithDocker(docker = ''): Promise<{ h: Harness; instance: string; containerId: string }> {
  harness = await startHarness({ 'echo.yaml': await workload(docker) }, { start: false });
  // A seed is copied from the workloads directory only.
  await cp(tools, join(harness.workloadsDir, 'tools'), { recursive: true });
  await harness.boilerhouse.start();
  const claimed = await harness.boilerhouse.claim('alice', 'echo');
  const stateDir = join(harness.dataDir, 'instances', claimed.instance.id, 'volumes', 'state');
  await mkdir(join(stateDir, 'groups', 'main'), { recursive: true });
  await writeFile(join(stateDir, 'groups', 'main', 'CLAUDE.md'), 'what alice told the main group\n');
  // The tenant's files are its user's (echo runs as 1000:1000), and so are its children.
  for (const path of ['groups', 'groups/main', 'groups/main/CLAUDE.md'])
    await chown(join(stateDir, path), 1000, 1000);
  return { h: harness, instance: claimed.instance.id, containerId: claimed.instance.containerId as string };
}

test('from inside the instance, dockerode on DOCKER_HOST runs a container on its own files; privileged is refused', async () => {
  const { h, instance, containerId } = await claimWithDocker();
  const metrics = new Metrics(h.boilerhouse);
  const run = await h.runtime.exec(containerId, ['node', '/tools/agent.cjs'], { timeoutMs: 30_000 });
  expect(run.exitCode).toBe(0);
  const result = JSON.parse(run.output.trim().split('\n').at(-1) as string);
  expect(result).toEqual({
    dockerHost: 'unix:///var/run/boilerhouse/docker.sock',
    uid: 1000,
    wait: { StatusCode: 0, Error: null },
    output: 'what alice told the main group\n',
    listed: ['/turn-1'],
    refused: {
      status: 403,
      message: 'boilerhouse: container create refused: HostConfig.Privileged is refused: it runs privileged',
    },
  });
  const stateDir = join(h.dataDir, 'instances', instance, 'volumes', 'state');
  expect(await readFile(join(stateDir, 'groups', 'main', 'reply.txt'), 'utf8')).toBe('done\n');
  // The socket belongs to the workload's user, and no one else on the host.
  expect(await stat(socketOf(h, instance))).toMatchObject({ uid: 1000, gid: 1000, mode: 0o140660 });
  const { body } = await metrics.render();
  expect(body).toContain(
    'boilerhouse_docker_proxy_denials_total{workload="echo",endpoint="POST /containers/create",reason="create_policy"} 1',
  );
  metrics.close();
});

/** Starts a container through the socket that sleeps with the tenant's main group mounted at /w. */
async function startSleeper(socket: string, name: string): Promise<void> {
  const created = await callProxy(socket, 'POST', `/containers/create?name=${name}`, {
    Image: CHILD_IMAGE,
    Cmd: ['sleep', '300'],
    HostConfig: { Binds: ['/data/groups/main:/w'] },
  });
  expect(created.status).toBe(201);
  expect((await callProxy(socket, 'POST', `/containers/${name}/start`)).status).toBe(204);
}

test("release removes the instance's containers; the reserved instance keeps its socket", async () => {
  const { h, instance } = await claimWithDocker();
  const socket = socketOf(h, instance);
  await startSleeper(socket, 'long-run');
  expect(await childrenOf({ [CHILD_LABEL.parent]: instance })).toHaveLength(1);
  expect((await h.boilerhouse.release('alice', 'echo')).outcome).toBe('reserved');
  expect(await childrenOf({ [CHILD_LABEL.parent]: instance })).toEqual([]);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  expect(mounts).not.toContain(join(h.dataDir, 'instances', instance, 'docker-pins'));
  expect((await callProxy(socket, 'GET', '/_ping')).status).toBe(200);
});

test('with on_release keep, its containers run through the reservation, the hit finds them, and they go before its last save', async () => {
  const { h, instance } = await claimWithDocker('  on_release: keep\n');
  const socket = socketOf(h, instance);
  await startSleeper(socket, 'conversation');
  const [child] = await childrenOf({ [CHILD_LABEL.parent]: instance });
  const running = async () => (await h.runtime.inspect(child as string))?.status;

  expect((await h.boilerhouse.release('alice', 'echo')).outcome).toBe('reserved');
  expect(await running()).toBe('running');
  expect((await h.boilerhouse.claim('alice', 'echo')).path).toBe('hit');
  expect(await childrenOf({ [CHILD_LABEL.parent]: instance })).toEqual([child]);
  expect(await running()).toBe('running');

  // What the kept container writes while its tenant is away is saved when the reservation ends.
  expect((await h.boilerhouse.release('alice', 'echo')).outcome).toBe('reserved');
  const wrote = await h.runtime.exec(child as string, ['sh', '-c', 'echo while reserved > /w/late.txt'], {
    timeoutMs: 10_000,
  });
  expect(wrote.exitCode).toBe(0);
  await h.boilerhouse.destroy(instance);
  expect(await childrenOf({ [CHILD_LABEL.parent]: instance })).toEqual([]);
  const back = await h.boilerhouse.claim('alice', 'echo');
  expect(back.path).not.toBe('hit');
  const stateDir = join(h.dataDir, 'instances', back.instance.id, 'volumes', 'state');
  expect(await readFile(join(stateDir, 'groups', 'main', 'late.txt'), 'utf8')).toBe('while reserved\n');
});

test('destroying the instance removes its containers and its socket', async () => {
  const { h, instance } = await claimWithDocker();
  const created = await callProxy(socketOf(h, instance), 'POST', '/containers/create', {
    Image: CHILD_IMAGE,
  });
  expect(created.status).toBe(201);
  await h.boilerhouse.destroy(instance);
  expect(await childrenOf({ [CHILD_LABEL.parent]: instance })).toEqual([]);
  await expect(stat(socketOf(h, instance))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('across a restart the socket stays served and its streams stay open; containers of instances that are gone are removed', async () => {
  const { h, instance } = await claimWithDocker();
  const socket = socketOf(h, instance);
  const kept = await callProxy(socket, 'POST', '/containers/create?name=kept', {
    Image: CHILD_IMAGE,
    Cmd: ['sleep', '300'],
  });
  expect(kept.status).toBe(201);
  expect((await callProxy(socket, 'POST', '/containers/kept/start')).status).toBe(204);
  // An attach stream (upgraded) and a wait held open across the restart: the socket host serves them, so
  // they neither hold the daemon's stop nor end with it.
  const held = [
    rawExchange(
      socket,
      'POST /containers/kept/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
      50_000,
    ),
    rawExchange(socket, 'POST /containers/kept/wait HTTP/1.1\r\nHost: d\r\n\r\n', 50_000),
  ];
  let ended = false;
  void Promise.all(held).then(() => {
    ended = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  // A container whose instance is gone (as after a crash between the two): same daemon, no such instance.
  const orphan = await engine.json<{ Id: string }>('POST', '/containers/create', {
    body: {
      Image: CHILD_IMAGE,
      Labels: { [CHILD_LABEL.daemon]: h.boilerhouse.daemonId, [CHILD_LABEL.parent]: 'echo-gone000000' },
    },
  });
  const restarted = await h.restart();
  expect(await childrenOf({ [CHILD_LABEL.daemon]: restarted.daemonId })).toEqual([kept.body.Id]);
  expect(await engine.call('GET', `/containers/${orphan.Id}/json`).catch((error) => error.status)).toBe(404);
  expect((await callProxy(socket, 'GET', '/containers/kept/json')).status).toBe(200);
  expect(ended).toBe(false);
  // They end when the child does, with the engine's answers.
  expect((await callProxy(socket, 'POST', '/containers/kept/kill')).status).toBe(204);
  const [attached, waited] = await Promise.all(held);
  expect(attached).toMatch(/^HTTP\/1\.1 101 UPGRADED\r\n/);
  expect(waited).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(waited).toContain('"StatusCode":137');
});

test('an image the allowlist names exactly must be on the host before an instance starts', async () => {
  const text = (await workload()).replace(/images: \[[^\]]*\]/, 'images: ["boilerhouse/no-such-agent:1"]');
  harness = await startHarness({ 'echo.yaml': text.replace('min_idle: 0', 'min_idle: 1') }, { start: false });
  await cp(tools, join(harness.workloadsDir, 'tools'), { recursive: true });
  await harness.boilerhouse.start();
  const bh = harness.boilerhouse;
  await waitFor(() => bh.pool('echo').fill.lastError !== null, 20_000, 'a failed fill');
  expect(bh.pool('echo').fill.lastError).toContain(
    'image boilerhouse/no-such-agent:1, which its containers use (docker.images), is not on this host',
  );
  expect(bh.instances()).toEqual([]);
});
