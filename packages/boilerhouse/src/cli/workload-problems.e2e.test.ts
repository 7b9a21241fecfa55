/**
 * Issue 18, the CLI against a real daemon (HTTP on loopback, auth on, the real Docker engine, a real s3rver):
 * `workload apply` tells what `validate` tells and exits 1 for errors and for a sink that cannot be used;
 * a broken file in the watched directory shows in `workload list` and `status` until it is fixed.
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
import { S3RVER_CREDENTIALS, type S3Server, startS3Server } from '../state/sinks/s3-server.ts';
import { echoWorkload, waitFor } from '../testing/harness.ts';
import { removeDaemonLeftovers } from '../testing/leftovers.ts';
import { runCli } from './main.ts';

let root: string;
let daemon: Daemon;
let s3: S3Server;
const key = `cli-problems-${randomBytes(16).toString('hex')}`;

beforeAll(async () => {
  s3 = await startS3Server('cli-problems');
  root = await mkdtemp(join(tmpdir(), 'boilerhouse-cli-problems-'));
  await mkdir(join(root, 'workloads'));
  const config = configFromEnv({
    BOILERHOUSE_DATA_DIR: join(root, 'data'),
    BOILERHOUSE_WORKLOADS_DIR: join(root, 'workloads'),
    BOILERHOUSE_PORT: '0',
  });
  daemon = await startDaemon(config, silentLogger, {
    BOILERHOUSE_API_KEY: key,
    S3_KEY: 'A-KEY-S3RVER-DOES-NOT-KNOW',
    S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
    BOILERHOUSE_WORKLOAD_ENV: 'S3_KEY,S3_SECRET',
  });
});

afterAll(async () => {
  if (daemon !== undefined) {
    const daemonId = daemon.boilerhouse.daemonId;
    await daemon.stop();
    const runtime = new DockerRuntime();
    await removeDaemonLeftovers(runtime, daemonId, join(root, 'data'));
    runtime.close();
    await rm(new MemoryDirs(join(root, 'data')).root, { recursive: true, force: true });
  }
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  await s3?.stop();
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

test('apply prints the warnings validate prints, and an image not on the host; warnings alone exit 0', async () => {
  const file = join(root, 'my-echo.yaml');
  await writeFile(
    file,
    await echoWorkload({
      'image: boilerhouse/echo:latest': 'image: boilerhouse/not-built-here:latest',
      'min_idle: 2': 'min_idle: 0',
      'affinity_timeout: 10m': 'affinity_timeout: 500',
    }),
  );
  const validated = await bh(['workload', 'validate', file]);
  const [warning] = validated.out.split('\n');
  expect(warning).toMatch(
    new RegExp(`^${file}:\\d+:\\d+ pool.affinity_timeout: warning: 500ms is very short`),
  );

  const applied = await bh(['workload', 'apply', file]);
  expect(applied).toMatchObject({ code: 0, err: '' });
  expect(applied.out.split('\n')).toEqual([
    warning,
    `${file} image: warning: image boilerhouse/not-built-here:latest is not on this host (there is no registry: build it first); no instance can start until it is`,
    expect.stringMatching(/^created workload echo \(version [0-9a-f]{12}\)$/),
    '',
  ]);
  const json = JSON.parse((await bh(['workload', 'apply', file, '--json'])).out);
  expect(json.warnings).toHaveLength(2);

  // An error exits 1, its place printed on stdout as validate prints it; nothing is applied.
  await writeFile(file, 'id: echo\nimage: boilerhouse/echo:latest\npool: {min_idle: 3, max_size: 1}\n');
  const refused = await bh(['workload', 'apply', file]);
  expect(refused.code).toBe(1);
  expect(refused.out).toMatch(new RegExp(`^${file}:3:\\d+ pool.min_idle: min_idle \\(3\\) cannot exceed`));
  expect(refused.err).toMatch(/^bh: workload apply .*: 400 invalid_workload: /);
});

test('a sink that refuses the credentials exits 1 in one line naming the sink, the bucket and why', async () => {
  const file = join(root, 'stored.yaml');
  await writeFile(
    file,
    await echoWorkload({
      'id: echo': 'id: stored',
      'min_idle: 2': 'min_idle: 0',
      '    type: local\n    path: sinks/echo': [
        '    type: s3',
        `    bucket: ${s3.bucket}`,
        `    endpoint: ${s3.endpoint}`,
        '    force_path_style: true',
        '    credentials:',
        '      access_key_id: ${S3_KEY}',
        '      secret_access_key: ${S3_SECRET}',
      ].join('\n'),
    }),
  );
  const refused = await bh(['workload', 'apply', file]);
  expect(refused.code).toBe(1);
  expect(refused.err.split('\n')).toEqual([
    expect.stringMatching(
      new RegExp(
        `^bh: workload apply ${file}: 400 sink_unusable: workload stored is not applied: the S3 sink s3://${s3.bucket} at ${s3.endpoint} refused the credentials \\(InvalidAccessKeyId: .*\\): check the variables sync.sink.credentials names`,
      ),
    ),
    '',
  ]);
  expect(refused.err).not.toContain('A-KEY-S3RVER-DOES-NOT-KNOW');
  expect((await bh(['workload', 'list', '--json'])).out).not.toContain('"stored"');
});

test('a broken file in the watched directory shows in workload list and status until it is fixed', async () => {
  const watched = join(root, 'workloads', 'vault.yaml');
  await writeFile(watched, 'id: vault\nimage: boilerhouse/echo:latest\nspool: {}\n');
  const listed = await waitFor(
    async () => {
      const run = await bh(['workload', 'list']);
      return run.out.includes('PROBLEMS') ? run : undefined;
    },
    10_000,
    'the problem in workload list',
  );
  expect(listed.code).toBe(0);
  expect(listed.out.split('\n').slice(-4)).toEqual([
    'PROBLEMS',
    expect.stringMatching(/^vault\.yaml is not valid; not loaded \(since (now|\d+s ago)\)$/),
    '  vault.yaml:3:1 spool: unknown key "spool"; did you mean "pool"?',
    '',
  ]);
  expect(listed.out).toMatch(/^echo\s.*\sactive\n/m);

  const status = await bh(['status']);
  expect(status.out.split('\n').slice(0, 4)).toEqual([
    'PROBLEMS',
    expect.stringMatching(/^vault\.yaml is not valid; not loaded/),
    '  vault.yaml:3:1 spool: unknown key "spool"; did you mean "pool"?',
    '',
  ]);
  expect(JSON.parse((await bh(['status', '--json'])).out).problems).toMatchObject([
    { file: 'vault.yaml', workload: 'vault', kind: 'invalid' },
  ]);
  expect((await bh(['status', '--workload', 'echo'])).out).not.toContain('PROBLEMS');

  await writeFile(watched, await echoWorkload({ 'id: echo': 'id: vault', 'min_idle: 2': 'min_idle: 0' }));
  const fixed = await waitFor(
    async () => {
      const run = await bh(['workload', 'list']);
      return run.out.includes('PROBLEMS') ? undefined : run;
    },
    10_000,
    'the problem to clear',
  );
  expect(fixed.out).toMatch(/^vault\s.*\sactive\n/m);
  expect((await bh(['status'])).out.split('\n')[0]).toBe('POOLS');

  // Broken again once loaded: the version loaded serves on, and its row points at the problem.
  await writeFile(watched, 'id: vault\nimgae: x\n');
  const kept = await waitFor(
    async () => {
      const run = await bh(['workload', 'list']);
      return run.out.includes('PROBLEMS') ? run : undefined;
    },
    10_000,
    'the problem of the loaded workload',
  );
  expect(kept.out).toMatch(/^vault\s.*\sactive, see problems\n/m);
  expect(kept.out).toMatch(/^vault\.yaml is not valid; keeping the previous version \([0-9a-f]{12}\) /m);
});
