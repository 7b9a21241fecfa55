/**
 * Issue 15, "nothing lost": a daemon restart, graceful or kill -9, while an agent uses its filtered socket.
 * The socket host serves on: a loop of `docker ps` sees no failure, an attach stream never breaks, the new
 * daemon drives the same host, and destroying the instance still removes its children and pins. (How long
 * requests wait meanwhile is measured by bench/socket-restart.ts, not asserted here.)
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import {
  type DaemonProcess,
  daemonDirs,
  spawnDaemon,
} from '../../../../../test/e2e/testing/daemon-process.ts';
import { DockerRuntime } from '../../runtime/docker.ts';
import { EngineClient } from '../../runtime/engine-client.ts';
import { MemoryDirs } from '../../secrets/index.ts';
import { echoWorkload, type Harness, startHarness, waitFor } from '../../testing/harness.ts';
import { removeDaemonLeftovers } from '../../testing/leftovers.ts';
import { CHILD_LABEL } from '../children.ts';
import { CHILD_IMAGE, callProxy, childrenOnEngine } from '../testing.ts';
import { hostPaths } from './paths.ts';
import { startTicker, startTraffic } from './traffic.ts';

const engine = new EngineClient(process.env.DOCKER_HOST);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const workload = async () =>
  (await echoWorkload({ 'min_idle: 2': 'min_idle: 0' })) +
  `\ndocker:\n  images: ["${CHILD_IMAGE.split(':')[0]}:*"]\n  max_containers: 3\n  limits: { cpus: 0.5, memory: 64M, pids: 64 }\n`;

const socketOf = (dataDir: string, instance: string) =>
  join(dataDir, 'instances', instance, 'docker', 'docker.sock');
const hostPid = async (dataDir: string) => Number(await readFile(hostPaths(dataDir).pid, 'utf8'));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A child with a bind of the state volume (so it holds a pin) and a ticker to attach to. */
async function startChildren(socket: string): Promise<void> {
  const pinned = await callProxy(socket, 'POST', '/containers/create?name=pinned', {
    Image: CHILD_IMAGE,
    Cmd: ['sleep', '300'],
    HostConfig: { Binds: ['/data:/w'] },
  });
  expect(pinned.status).toBe(201);
  await startTicker(socket, CHILD_IMAGE, 'ticker');
}

async function expectDestroyedCleanly(dataDir: string, instance: string): Promise<void> {
  expect(await childrenOnEngine(engine, instance)).toEqual([]);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  expect(mounts).not.toContain(join(dataDir, 'instances', instance));
  await expect(stat(socketOf(dataDir, instance))).rejects.toMatchObject({ code: 'ENOENT' });
}

test('a graceful restart (stop, then a new Boilerhouse on the same data directory) cuts nothing', async () => {
  const harness: Harness = await startHarness({ 'echo.yaml': await workload() });
  cleanups.push(async () => void (await harness.cleanup()));
  const { instance } = await harness.boilerhouse.claim('alice', 'echo');
  const socket = socketOf(harness.dataDir, instance.id);
  await startChildren(socket);
  const pid = await hostPid(harness.dataDir);
  const traffic = startTraffic(socket, 'ticker');
  await pause(500);
  await harness.restart();
  await pause(500);
  const report = await traffic.stop();

  expect(report.failures).toEqual([]);
  expect(report.streamEnded).toBeUndefined();
  expect(report.streamBytes).toBeGreaterThan(0);
  expect(report.samples.length).toBeGreaterThan(10);
  expect(await hostPid(harness.dataDir)).toBe(pid);
  // The new daemon drives the same host: a release, then a destroy, go through it.
  expect((await harness.boilerhouse.release('alice', 'echo')).outcome).toBe('reserved');
  expect(await childrenOnEngine(engine, instance.id)).toEqual([]);
  await startChildren(socket);
  await harness.boilerhouse.destroy(instance.id);
  await expectDestroyedCleanly(harness.dataDir, instance.id);
});

test('kill -9 of the daemon process, then a new daemon on the same data directory, cuts nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bh-kill-'));
  const dirs = daemonDirs(root);
  await mkdir(dirs.workloadsDir, { recursive: true });
  await writeFile(join(dirs.workloadsDir, 'echo.yaml'), await workload());
  let daemon: DaemonProcess = await spawnDaemon(dirs, {});
  const daemonId = daemon.daemonId;
  cleanups.push(async () => {
    await daemon.stop();
    const runtime = new DockerRuntime();
    await removeDaemonLeftovers(runtime, daemonId, dirs.dataDir);
    runtime.close();
    await rm(root, { recursive: true, force: true });
    await rm(new MemoryDirs(dirs.dataDir).root, { recursive: true, force: true });
  });
  const claim = await daemon.api<{ instance: { id: string } }>('POST', '/api/v1/tenants/alice/claim', {
    workload: 'echo',
  });
  const instance = claim.instance.id;
  const socket = socketOf(dirs.dataDir, instance);
  await startChildren(socket);
  const pid = await hostPid(dirs.dataDir);
  const traffic = startTraffic(socket, 'ticker');
  await pause(300);
  await daemon.kill();
  // No daemon at all for a moment: the socket serves on.
  await pause(500);
  daemon = await spawnDaemon(dirs, {});
  await pause(300);
  const report = await traffic.stop();

  expect(daemon.daemonId).toBe(daemonId);
  expect(report.failures).toEqual([]);
  expect(report.streamEnded).toBeUndefined();
  expect(report.streamBytes).toBeGreaterThan(0);
  expect(await hostPid(dirs.dataDir)).toBe(pid);
  const children = await engine.json<{ Id: string }[]>(
    'GET',
    `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${CHILD_LABEL.parent}=${instance}`] }))}`,
  );
  expect(children).toHaveLength(2);
  const destroyed = await fetch(`${daemon.url}/api/v1/instances/${instance}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${dirs.apiKey}` },
  });
  expect(destroyed.status).toBe(204);
  await expectDestroyedCleanly(dirs.dataDir, instance);
});

test('a socket host killed under a running daemon is started again and serves every socket again', async () => {
  const harness: Harness = await startHarness({ 'echo.yaml': await workload() });
  cleanups.push(async () => void (await harness.cleanup()));
  const { instance } = await harness.boilerhouse.claim('alice', 'echo');
  const socket = socketOf(harness.dataDir, instance.id);
  await startChildren(socket);
  const pid = await hostPid(harness.dataDir);
  process.kill(pid, 'SIGKILL');
  // Streams in flight end with it (that host is gone); new connections are served by the next one.
  await waitFor(
    async () => (await hostPid(harness.dataDir).catch(() => pid)) !== pid,
    20_000,
    'another socket host',
  );
  await waitFor(
    async () =>
      (await callProxy(socket, 'GET', '/containers/ticker/json').catch(() => ({ status: 0 }))).status === 200,
  );
  const traffic = startTraffic(socket, 'ticker');
  await pause(300);
  expect((await traffic.stop()).failures).toEqual([]);
  await harness.boilerhouse.destroy(instance.id);
  await expectDestroyedCleanly(harness.dataDir, instance.id);
});

test('a child started while the daemon is down keeps its bind after the daemon starts again, and so does the next', async () => {
  const harness: Harness = await startHarness({ 'echo.yaml': await workload() });
  cleanups.push(async () => void (await harness.cleanup()));
  const claim = await harness.boilerhouse.claim('alice', 'echo');
  await fetch(`${claim.endpoints[0]?.url}/counter`);
  const socket = socketOf(harness.dataDir, claim.instance.id);
  // Reads the state volume through a bind, which the host pins under the instance directory.
  const reader = async (name: string) => {
    const created = await callProxy(socket, 'POST', `/containers/create?name=${name}`, {
      Image: CHILD_IMAGE,
      Cmd: ['sh', '-c', 'while :; do cat /w/counter; echo; sleep 0.2; done'],
      HostConfig: { Binds: ['/data:/w'] },
    });
    expect(created.status).toBe(201);
    expect((await callProxy(socket, 'POST', `/containers/${name}/start`)).status).toBe(204);
    return created.body.Id as string;
  };
  const counterSeen = async (id: string) => {
    const logs = await engine.call('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    return logs.body.toString('latin1').includes('1\n');
  };

  await harness.boilerhouse.stop();
  const whileDown = await reader('while-down');
  await waitFor(
    () => counterSeen(whileDown),
    10_000,
    'the child started while the daemon was down to read the volume',
  );
  await harness.restart();
  const after = await reader('after-restart');
  await waitFor(() => counterSeen(after), 10_000, 'the child started after the restart to read the volume');
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  expect(mounts).toContain(join(harness.dataDir, 'instances', claim.instance.id, 'docker-pins'));
});
