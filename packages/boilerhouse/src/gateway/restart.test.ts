/**
 * The gateway outlives the daemon (it is served by the socket host): kill -9 of a daemon process, then a
 * graceful stop, while a client sends requests to a claimed tenant; none fails. A request for a tenant never
 * claimed, made while no daemon runs, is held and answered once the next daemon has woken the tenant.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { type DaemonProcess, daemonDirs, spawnDaemon } from '../../../../test/e2e/testing/daemon-process.ts';
import { DockerRuntime } from '../runtime/docker.ts';
import { MemoryDirs } from '../secrets/index.ts';
import { echoWorkload, waitFor } from '../testing/harness.ts';
import { removeDaemonLeftovers } from '../testing/leftovers.ts';
import { callGateway } from './testing.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}, 60_000);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('requests flow through kill -9 and a graceful restart, and a wake asked meanwhile completes', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bh-gateway-restart-'));
  const dirs = daemonDirs(root);
  await mkdir(dirs.workloadsDir, { recursive: true });
  const workload = await echoWorkload({ 'id: echo': 'id: open', 'min_idle: 2': 'min_idle: 1' });
  await writeFile(
    join(dirs.workloadsDir, 'open.yaml'),
    `${workload}\ngateway:\n  port: 8080\n  auth: none\n`,
  );
  const port = await freePort();
  const env = { BOILERHOUSE_GATEWAY_PORT: String(port) };
  let daemon: DaemonProcess = await spawnDaemon(dirs, env);
  const daemonId = daemon.daemonId;
  cleanups.push(async () => {
    await daemon.stop();
    const runtime = new DockerRuntime();
    await removeDaemonLeftovers(runtime, daemonId, dirs.dataDir);
    runtime.close();
    await rm(root, { recursive: true, force: true });
    await rm(new MemoryDirs(dirs.dataDir).root, { recursive: true, force: true });
  });
  await waitFor(
    async () => (await callGateway(port, '/open/alice/').catch(() => ({ status: 0 }))).status === 200,
    30_000,
    'the gateway to wake alice',
  );

  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const failures: string[] = [];
  let sent = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const answer = await callGateway(port, `/open/alice/${sent++}`, { agent }).catch((error: Error) => ({
        status: 0,
        body: error.message,
      }));
      if (answer.status !== 200) failures.push(`${answer.status} ${answer.body}`);
    }
  })();
  // Each step waits for requests to have gone on flowing, not for a time: a loaded machine is slow.
  const flowing = (more: number) => waitFor(() => sent >= more, 30_000, `${more} requests sent`);
  await flowing(sent + 5);
  await daemon.kill();
  // No daemon: bob's request is held, and asked for again when the next daemon connects.
  const held = callGateway(port, '/open/bob/held');
  await flowing(sent + 5);
  daemon = await spawnDaemon(dirs, env);
  const woken = await held;
  await flowing(sent + 5);
  await daemon.stop();
  await flowing(sent + 5);
  daemon = await spawnDaemon(dirs, env);
  await flowing(sent + 5);
  running = false;
  await loop;
  agent.destroy();

  expect(failures).toEqual([]);
  expect(woken.status, woken.body).toBe(200);
  expect(JSON.parse(woken.body).path).toBe('/held');
  const events = await daemon.api<{ events: { type: string; tenant: string | null }[] }>(
    'GET',
    '/api/v1/events?limit=200',
  );
  expect(events.events.some((event) => event.type === 'tenant.woken' && event.tenant === 'bob')).toBe(true);
}, 120_000);
