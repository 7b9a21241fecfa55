/**
 * `npm start -- --down` (README.md, "Taking everything down"): the demo's instances outlive a Ctrl-C, and
 * --down takes them away, saving the demo tenant first, so that nothing of the demo is left: no container,
 * network, mount or socket host. scripts/start.ts keeps its files in the checkout's .data; the test runs a
 * copy of scripts/ in a scratch directory that links to this checkout's packages, workloads and
 * node_modules, so a developer's own demo is never touched.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LABEL } from '../../packages/boilerhouse/src/pool/container-spec.ts';
import { readMounts } from '../../packages/boilerhouse/src/pool/volume-mount.ts';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { DockerRuntime } from '../../packages/boilerhouse/src/runtime/docker.ts';
import { MemoryDirs } from '../../packages/boilerhouse/src/secrets/index.ts';
import { headKey, saveBase } from '../../packages/boilerhouse/src/state/keys.ts';
import { removeDaemonLeftovers } from '../../packages/boilerhouse/src/testing/leftovers.ts';
import { containersLabelled } from './testing/engine.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;

let scratch: string;
let dataDir: string;
let env: Record<string, string>;
let api: string;
let daemonId: string | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `npm start [-- args]` in the scratch checkout: the process and what it printed so far. */
function start(...args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [join(scratch, 'scripts', 'start.ts'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function processesOf(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (command.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'boilerhouse-test-demo-'));
  dataDir = join(scratch, '.data', 'boilerhouse');
  await mkdir(join(scratch, 'scripts'));
  for (const file of ['start.ts', 'take-down.ts'])
    await cp(join(REPO, 'scripts', file), join(scratch, 'scripts', file));
  for (const dir of ['packages', 'workloads', 'node_modules'])
    await symlink(join(REPO, dir), join(scratch, dir));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  env = {
    PATH: process.env.PATH ?? '',
    BOILERHOUSE_PORT: String(port),
    BOILERHOUSE_GATEWAY_PORT: String(await freePort()),
  };
});

afterAll(async () => {
  if (daemonId !== undefined) {
    const runtime = new DockerRuntime();
    await removeDaemonLeftovers(runtime, daemonId, dataDir);
    runtime.close();
  }
  await rm(scratch, { recursive: true, force: true });
  await rm(new MemoryDirs(dataDir).root, { recursive: true, force: true });
});

test('npm start -- --down saves the demo tenant and leaves nothing of the demo behind', async () => {
  const demo = start();
  const deadline = Date.now() + 180_000;
  while (!demo.output().includes('Boilerhouse is serving NanoClaw')) {
    if (demo.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm start did not come up:\n${demo.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  daemonId = ((await (await fetch(`${api}/api/v1/health`)).json()) as { daemon: string }).daemon;
  demo.child.kill('SIGINT');
  await once(demo.child, 'exit');
  // Ctrl-C stops the daemon alone: the demo tenant's instance and the warm one run on.
  expect((await containersLabelled({ [LABEL.daemon]: daemonId })).length).toBeGreaterThan(0);

  const down = start('--down');
  const [code] = (await once(down.child, 'exit')) as [number];
  expect(code, down.output()).toBe(0);
  expect(down.output()).toContain('The demo is down');

  expect(await containersLabelled({ [LABEL.daemon]: daemonId })).toEqual([]);
  expect(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId })).toEqual([]);
  const { stdout: networks } = await run('docker', [
    'network',
    'ls',
    '-q',
    '--filter',
    `label=${LABEL.daemon}=${daemonId}`,
  ]);
  expect(networks.trim()).toBe('');
  const memoryRoot = new MemoryDirs(dataDir).root;
  const mounts = (await readMounts()).filter(
    (entry) => entry.point.startsWith(`${scratch}/`) || entry.point.startsWith(memoryRoot),
  );
  expect(mounts).toEqual([]);
  expect(await processesOf(dataDir)).toEqual([]);
  // The demo tenant was saved on the way (its first save: it was never released before), in the demo's
  // local sink, for the next start to restore.
  const head = join(dataDir, 'sinks', 'demo', headKey(saveBase(undefined, 'demo', 'nanoclaw')));
  expect(JSON.parse(await readFile(head, 'utf8'))).toMatchObject({ seq: 1 });
}, 300_000);
