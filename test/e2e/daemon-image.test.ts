/**
 * The daemon's own image (images/boilerhouse), run with the very `docker run` line of README.md ("The
 * daemon in a container", only its paths and name swapped for the test's) against the real engine: the
 * echo workload applied with bh from the host, a tenant claimed, its endpoint answering and its state
 * saved at release; a workload with a filtered Docker socket and a gateway route, whose children read the
 * instance's volume through pins the engine must see from outside the container, read-only when asked
 * (images/boilerhouse/propagating-mount.sh), and nosuid,nodev always; the container replaced
 * as an upgrade replaces it, the tenant's instance adopted with its state; then the README's teardown,
 * after which nothing of the daemon is left: no container, network or mount.
 *
 * This host has no systemd, so its / and /dev/shm are private mounts, which Docker will not share with a
 * container. The test makes its data directory and its daemon's memory directory shared mounts of their
 * own (what a systemd host has already), and takes them away at the end. It cannot share all of
 * /dev/shm/boilerhouse as the README does (parallel tests' daemons keep their mounts there), so it gives the
 * container its daemon's own memory directory, already nosuid,nodev,noexec: a directory mounted from the
 * host is not one the daemon mounted, so no daemon's stop would take it away.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildDaemonImage, DAEMON_IMAGE } from '../../images/boilerhouse/build.ts';
import { LABEL } from '../../packages/boilerhouse/src/pool/container-spec.ts';
import { readMounts } from '../../packages/boilerhouse/src/pool/volume-mount.ts';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { CHILD_IMAGE, callProxy } from '../../packages/boilerhouse/src/proxy/testing.ts';
import { MemoryDirs } from '../../packages/boilerhouse/src/secrets/index.ts';
import { until } from '../../packages/nanoclaw/src/testing/e2e-host.ts';
import { splitShellWords } from '../../packages/spec/src/shell-words.ts';
import { containersLabelled, removeContainers } from './testing/engine.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
const BH = join(REPO, 'packages/boilerhouse/bin/bh');
const API_KEY = 'daemon-image-test-admin-key-0123456789';
/** The image is built in the test's setup when it is missing or outdated (~20 s; longer on a cold cache). */
const BUILD_TIMEOUT_MS = 600_000;

let root: string;
let dataDir: string;
let memoryRoot: string;
let workloadsDir: string;
let name: string;
let api: string;
let gateway: string;
let daemonId: string | undefined;
let runLine: string[];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** README's `docker run` for the daemon, with the test's directories, settings and container name. */
async function readmeRunLine(envFile: string): Promise<string[]> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('docker run -d --name boilerhouse ');
  expect(start, 'README.md has no "docker run -d --name boilerhouse" line').toBeGreaterThan(0);
  const lines: string[] = [];
  for (const line of readme.slice(start).split('\n')) {
    lines.push(line.replace(/\\$/, ''));
    if (!line.endsWith('\\')) break;
  }
  const swaps: [string, string][] = [
    ['--name boilerhouse ', `--name ${name} `],
    ['/var/lib/boilerhouse:/var/lib/boilerhouse:rshared', `${dataDir}:${dataDir}:rshared`],
    ['/dev/shm/boilerhouse:/dev/shm/boilerhouse:rshared', `${memoryRoot}:${memoryRoot}:rshared`],
    ['/etc/boilerhouse/workloads:', `${workloadsDir}:`],
    ['--env-file /etc/boilerhouse/boilerhouse.env', `--env-file ${envFile}`],
  ];
  let line = lines.join(' ');
  for (const [from, to] of swaps) {
    expect(line, `README's docker run line has no ${from}`).toContain(from);
    line = line.replace(from, to);
  }
  const words = splitShellWords(line);
  expect(words.slice(0, 2)).toEqual(['docker', 'run']);
  expect(words.at(-1)).toBe(DAEMON_IMAGE);
  return words.slice(1);
}

const docker = (...args: string[]) => run('docker', args).then(({ stdout }) => stdout.trim());

/** `bh` from the host, as the operator runs it; `--json` answers parsed. */
async function bh<T = string>(...args: string[]): Promise<T> {
  const { stdout } = await run(BH, args, {
    env: { ...process.env, BOILERHOUSE_URL: api, BOILERHOUSE_TOKEN: API_KEY },
  });
  return (args.includes('--json') ? JSON.parse(stdout) : stdout) as T;
}

async function startContainer(): Promise<void> {
  await docker(...runLine);
  const health = await until(
    () =>
      fetch(`${api}/api/v1/health`).then(
        (response) => (response.ok ? (response.json() as Promise<{ daemon: string }>) : undefined),
        () => undefined,
      ),
    'the daemon in its container to answer',
    60_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; its log:\n${await docker('logs', name).catch(() => '')}`);
  });
  daemonId = health.daemon;
}

async function mountsOfTheTest(): Promise<string[]> {
  const under = (point: string, dir: string) => point === dir || point.startsWith(`${dir}/`);
  return (await readMounts())
    .map((entry) => entry.point)
    .filter((point) => under(point, dataDir) || under(point, memoryRoot));
}

beforeAll(async () => {
  await buildDaemonImage();
  root = await mkdtemp('/tmp/boilerhouse-test-image-');
  dataDir = join(root, 'data');
  workloadsDir = join(root, 'workloads');
  name = `boilerhouse-test-image-${process.pid}`;
  await mkdir(dataDir, { mode: 0o700 });
  await mkdir(workloadsDir);
  memoryRoot = await new MemoryDirs(dataDir).createRoot();
  for (const dir of [dataDir, memoryRoot]) {
    await run('mount', ['--bind', dir, dir]);
    await run('mount', ['--make-shared', dir]);
  }
  await run('mount', ['-o', 'remount,bind,nosuid,nodev,noexec', memoryRoot]);
  const [apiPort, gatewayPort] = [await freePort(), await freePort()];
  api = `http://127.0.0.1:${apiPort}`;
  gateway = `http://127.0.0.1:${gatewayPort}`;
  const envFile = join(root, 'boilerhouse.env');
  const settings = {
    BOILERHOUSE_DATA_DIR: dataDir,
    BOILERHOUSE_PORT: apiPort,
    BOILERHOUSE_GATEWAY_PORT: gatewayPort,
    BOILERHOUSE_API_KEY: API_KEY,
  };
  await writeFile(
    envFile,
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(''),
    { mode: 0o600 },
  );
  runLine = await readmeRunLine(envFile);
  // The echo workload, and one with a filtered socket and a gateway route.
  const echo = await readFile(join(REPO, 'workloads/echo.yaml'), 'utf8');
  await writeFile(join(root, 'echo.yaml'), echo);
  const socketed = echo
    .replace(/^id: echo$/m, 'id: echo-socket')
    .replace(/^ {2}min_idle: \d+$/m, '  min_idle: 1')
    .replace('path: sinks/echo', 'path: sinks/echo-socket');
  await writeFile(
    join(root, 'echo-socket.yaml'),
    `${socketed}\ndocker:\n  images: ["${CHILD_IMAGE}"]\n\ngateway:\n  port: 8080\n  auth: none\n`,
  );
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (name !== undefined) await docker('rm', '-f', name).catch(() => undefined);
  if (daemonId !== undefined) {
    await removeContainers([
      ...(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId })),
      ...(await containersLabelled({ [LABEL.daemon]: daemonId })),
    ]);
    const networks = await docker('network', 'ls', '-q', '--filter', `label=${LABEL.daemon}=${daemonId}`);
    for (const network of networks.split('\n').filter(Boolean)) await docker('network', 'rm', network);
  }
  if (root === undefined) return;
  for (const point of (await mountsOfTheTest()).reverse()) await run('umount', ['--lazy', point]);
  await rm(root, { recursive: true, force: true });
  await rm(memoryRoot, { recursive: true, force: true });
});

test('the daemon runs in its image as the README says, and leaves nothing behind', async () => {
  await startContainer();
  // The host's view, the one the engine mounts from, keeps the flags the daemon gives its mounts.
  const flags = new Map((await readMounts()).map((entry) => [entry.point, entry.options]));
  expect(flags.get(join(dataDir, 'instances'))).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
  expect(flags.get(memoryRoot)).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));

  expect(await bh('workload', 'apply', join(root, 'echo.yaml'))).toContain('created workload echo');
  const alice = await bh<{ path: string; endpoints: { url: string }[] }>(
    'claim',
    'alice',
    '--workload',
    'echo',
    '--json',
  );
  const endpoint = alice.endpoints[0]?.url as string;
  expect(await (await fetch(`${endpoint}/counter`)).text()).toBe('1\n');
  expect(await bh('release', 'alice', '--workload', 'echo')).toContain('reserved for alice');
  const { stdout: status } = await run(
    'docker',
    ['exec', '-e', 'BOILERHOUSE_TOKEN', '-e', 'BOILERHOUSE_URL', name, 'bh', 'status'],
    {
      env: { ...process.env, BOILERHOUSE_TOKEN: API_KEY, BOILERHOUSE_URL: api },
    },
  );
  expect(status).toContain('alice');

  // The socket host, in the container: a child started through the instance's filtered socket reads the
  // instance's volume through a pin (mounted in the container, seen by the engine), and the gateway
  // forwards to the tenant's instance.
  await bh('workload', 'apply', join(root, 'echo-socket.yaml'));
  const bob = await bh<{ instance: { id: string }; endpoints: { url: string }[] }>(
    'claim',
    'bob',
    '--workload',
    'echo-socket',
    '--json',
  );
  expect(await (await fetch(`${bob.endpoints[0]?.url}/counter`)).text()).toBe('1\n');
  const socket = join(dataDir, 'instances', bob.instance.id, 'docker', 'docker.sock');
  /** A child of bob's instance running `script` with its state volume at /mnt; its exit code. */
  const runChild = async (script: string, bind: string) => {
    const created = await callProxy(socket, 'POST', '/containers/create', {
      Image: CHILD_IMAGE,
      Cmd: ['sh', '-c', script],
      HostConfig: { Binds: [bind] },
    });
    expect(created.status, created.body.message).toBe(201);
    const child = created.body.Id as string;
    expect((await callProxy(socket, 'POST', `/containers/${child}/start`)).status).toBe(204);
    const { StatusCode } = (await callProxy(socket, 'POST', `/containers/${child}/wait`)).body;
    expect((await callProxy(socket, 'DELETE', `/containers/${child}`)).status).toBe(204);
    return StatusCode;
  };
  expect(await runChild('test "$(cat /mnt/counter)" = 1', '/data:/mnt')).toBe(0);
  // Read-only reaches the engine too (a remount made in the container alone would not).
  expect(
    await runChild('grep " /mnt ro,nosuid,nodev," /proc/self/mountinfo && ! touch /mnt/x', '/data:/mnt:ro'),
  ).toBe(0);
  const routed = await until(
    () =>
      fetch(`${gateway}/echo-socket/bob/counter`).then(
        async (response) => (response.ok ? response.text() : undefined),
        () => undefined,
      ),
    "bob's gateway route",
  );
  expect(routed).toBe('2\n');

  // An upgrade: the container stopped, removed and run again; alice's reserved instance runs on, and the
  // new daemon adopts it with her state.
  await docker('stop', name);
  await docker('rm', name);
  await startContainer();
  const again = await bh<{ path: string; endpoints: { url: string }[] }>(
    'claim',
    'alice',
    '--workload',
    'echo',
    '--json',
  );
  expect(again.path).toBe('hit');
  expect(await (await fetch(`${again.endpoints[0]?.url}/counter`)).text()).toBe('2\n');

  // The README's teardown of a host: every pool drained, every instance destroyed, the daemon stopped.
  await bh('pools', 'drain', 'echo');
  await bh('pools', 'drain', 'echo-socket');
  await bh('instances', 'destroy', '--all');
  await docker('stop', name);
  expect(await docker('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name)).toBe('exited 0');
  const id = daemonId as string;
  expect(await containersLabelled({ [LABEL.daemon]: id })).toEqual([]);
  expect(await containersLabelled({ [CHILD_LABEL.daemon]: id })).toEqual([]);
  expect(await docker('network', 'ls', '-q', '--filter', `label=${LABEL.daemon}=${id}`)).toBe('');
  // Only the test's own shared mounts remain.
  expect(await mountsOfTheTest()).toEqual([dataDir, memoryRoot]);
}, 300_000);
