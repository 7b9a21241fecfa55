/**
 * Issue 18, an operator upgrading a workload while tenants hold instances, with the CLI against a real
 * daemon (HTTP on loopback, auth on) on the real Docker engine: the old version shows in the listings,
 * `workload upgrade` says who moves when, a release moves one tenant, `--now` another.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { configFromEnv } from '../config.ts';
import { type Daemon, startDaemon } from '../daemon.ts';
import { silentLogger } from '../log.ts';
import { DockerRuntime } from '../runtime/docker.ts';
import { MemoryDirs } from '../secrets/index.ts';
import { counter, echoWorkload } from '../testing/harness.ts';
import { removeDaemonLeftovers } from '../testing/leftovers.ts';
import { runCli } from './main.ts';

let root: string;
let daemon: Daemon;
const key = `upgrade-test-${randomBytes(16).toString('hex')}`;
const V1 = { 'min_idle: 2': 'min_idle: 0', 'interval: 30s': 'interval: 1h' };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boilerhouse-upgrade-'));
  await mkdir(join(root, 'workloads'));
  const config = configFromEnv({
    BOILERHOUSE_DATA_DIR: join(root, 'data'),
    BOILERHOUSE_WORKLOADS_DIR: join(root, 'workloads'),
    BOILERHOUSE_PORT: '0',
  });
  daemon = await startDaemon(config, silentLogger, { BOILERHOUSE_API_KEY: key });
});

afterAll(async () => {
  if (daemon === undefined) return;
  const daemonId = daemon.boilerhouse.daemonId;
  await daemon.stop();
  const runtime = new DockerRuntime();
  await removeDaemonLeftovers(runtime, daemonId, join(root, 'data'));
  runtime.close();
  await rm(root, { recursive: true, force: true });
  await rm(new MemoryDirs(join(root, 'data')).root, { recursive: true, force: true });
});

async function bh(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = { code: -1, out: '', err: '' };
  result.code = await runCli(args, {
    out: (text) => {
      result.out += text;
    },
    err: (text) => {
      result.err += text;
    },
    env: { BOILERHOUSE_URL: daemon.url, BOILERHOUSE_TOKEN: key },
    prog: 'bh',
  });
  return result;
}

async function json<T>(args: string[]): Promise<T> {
  const run = await bh([...args, '--json']);
  expect(run.code).toBe(0);
  return JSON.parse(run.out) as T;
}

type Claimed = { instance: { id: string; version: string }; endpoints: { url: string }[] };

function urlOf(claim: Claimed): string {
  return claim.endpoints[0]?.url as string;
}

test('an old version shows in every listing; a release moves one tenant with its data, --now another with what it had not saved', async () => {
  const file = join(root, 'echo.yaml');
  await writeFile(file, await echoWorkload(V1));
  expect((await bh(['workload', 'apply', file])).code).toBe(0);
  const alice = await json<Claimed>(['claim', 'alice', '--workload', 'echo']);
  const bob = await json<Claimed>(['claim', 'bob', '--workload', 'echo']);
  await counter(urlOf(alice));
  await counter(urlOf(alice));
  await counter(urlOf(bob));
  const v1 = alice.instance.version;

  await writeFile(
    file,
    await echoWorkload({ ...V1, 'STATE_DIR: /data': 'STATE_DIR: /data\n  RELEASE: "2"' }),
  );
  const applied = await bh(['workload', 'apply', file]);
  const v2 = /version ([0-9a-f]{12})/.exec(applied.out)?.[1] as string;
  expect(v2).not.toBe(v1);

  const list = await bh(['instances', 'list', '--workload', 'echo']);
  expect(list.out).toMatch(
    new RegExp(`^${alice.instance.id}\\s+echo\\s+${v1} old\\s+claimed\\s+alice\\s`, 'm'),
  );
  expect((await bh(['tenant', 'show', 'bob'])).out).toMatch(
    new RegExp(`^echo\\s+${bob.instance.id}\\s+claimed\\s+${v1} old\\s`, 'm'),
  );
  const status = await bh(['status']);
  expect(status.out).toMatch(/^WORKLOAD\s.*\sOLD VERSION\s+FILL$/m);
  expect(status.out).toMatch(new RegExp(`^echo\\s+${v2}\\s.*\\s2 \\(2 claimed\\)\\s+ok$`, 'm'));

  const plan = await bh(['workload', 'upgrade', 'echo']);
  expect(plan).toMatchObject({ code: 0, err: '' });
  expect(plan.out).toMatch(new RegExp(`^workload echo: version ${v2}\\n`));
  expect(plan.out).toMatch(
    new RegExp(
      `^alice\\s+${alice.instance.id}\\s+${v1}\\s+claimed\\s+next release\\s+-\\s+moves to version ${v2} at its next release`,
      'm',
    ),
  );
  expect(plan.out).toMatch(/^nothing was moved; --now moves the claimed ones now, each saved first\n$/m);
  expect((await bh(['workload', 'upgrade', 'echo', '--parallel', '2'])).code).toBe(2);

  // alice: saved at release, her old instance destroyed; her next claim is the new version, with her data.
  expect((await bh(['release', 'alice', '--workload', 'echo'])).out).toMatch(/: instance destroyed\n$/);
  const back = await json<Claimed>(['claim', 'alice', '--workload', 'echo']);
  expect(back.instance.version).toBe(v2);
  expect(await counter(urlOf(back))).toBe(3);

  // bob: moved now; his write since the claim was never saved before the move.
  const moved = await bh(['workload', 'upgrade', 'echo', '--now']);
  expect(moved.code).toBe(0);
  expect(moved.err).toMatch(
    new RegExp(`^\\S+ \\S+  bob moved to echo-[0-9a-f]+ \\(version ${v2}, \\w+\\) in \\d+ms`, 'm'),
  );
  expect(moved.out).toMatch(
    new RegExp(`^bob\\s+${bob.instance.id}\\s+${v1}\\s+claimed\\s+moved\\s+echo-[0-9a-f]+\\s`, 'm'),
  );
  const bobNow = await json<{ instances: (Claimed['instance'] & { endpoints: { url: string }[] })[] }>([
    'tenant',
    'show',
    'bob',
  ]);
  expect(bobNow.instances).toMatchObject([{ version: v2, version_status: 'current' }]);
  expect(await counter(bobNow.instances[0]?.endpoints[0]?.url as string)).toBe(2);

  const done = await json<{ tenants: unknown[] }>(['workload', 'upgrade', 'echo', '--now']);
  expect(done.tenants).toEqual([]);
  expect((await bh(['workload', 'upgrade', 'echo'])).out).toContain('no tenant is on an old version\n');
});
