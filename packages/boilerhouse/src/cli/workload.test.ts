import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { runCli } from './main.ts';
import { withId } from './workload.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

async function run(...args: string[]) {
  return runIn({}, ...args);
}

async function runIn(env: Record<string, string>, ...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (text) => (out += text), err: (text) => (err += text), env });
  return { code, out, err };
}

test('valid files exit 0 and print nothing but the summary', async () => {
  const result = await run(
    'workload',
    'validate',
    join(root, 'workloads/nanoclaw.yaml'),
    join(root, 'workloads/echo.yaml'),
  );
  expect(result).toEqual({ code: 0, out: '', err: '2 of 2 workload files valid\n' });
});

test('each problem prints as FILE:LINE:COL PATH: MESSAGE and any error exits 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bh-cli-'));
  const bad = join(dir, 'bad.yaml');
  const warned = join(dir, 'warned.yaml');
  await writeFile(bad, 'id: bad\nimage: busybox\npool:\n  min_idle: 3\n  max_size: 1\n');
  await writeFile(warned, 'id: warned\nimage: busybox\npool:\n  affinity_timeout: 30\n');
  const result = await run('workload', 'validate', bad, warned, join(dir, 'missing.yaml'));
  expect(result.code).toBe(1);
  expect(result.out.split('\n')).toEqual([
    `${bad}:4:13 pool.min_idle: min_idle (3) cannot exceed max_size (1)`,
    `${warned}:4:21 pool.affinity_timeout: warning: 30ms is very short; a bare number here is in milliseconds (write a unit, e.g. "30s", if you meant another)`,
    `${join(dir, 'missing.yaml')}: cannot read the file: no such file`,
    '',
  ]);
  expect(result.err).toBe('1 of 3 workload files valid\n');
});

test('warnings alone do not fail validation', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bh-cli-'));
  const file = join(dir, 'w.yaml');
  await writeFile(file, 'id: w\nimage: busybox\nhealthcheck:\n  test: "true"\n  interval: 0.2\n');
  expect((await run('workload', 'validate', file)).code).toBe(0);
});

test('validate reads only the variables BOILERHOUSE_WORKLOAD_ENV allows, as the daemon does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bh-cli-'));
  const file = join(dir, 'env.yaml');
  await writeFile(
    file,
    'id: env\nimage: busybox\nenvironment:\n  A: ${GREETING}\n  B: ${AWS_SECRET_ACCESS_KEY}\n',
  );
  const env = { GREETING: 'hi', AWS_SECRET_ACCESS_KEY: 'aws-secret', BOILERHOUSE_WORKLOAD_ENV: 'GREETING' };
  const result = await runIn(env, 'workload', 'validate', file);
  expect(result.code).toBe(1);
  expect(result.out).toBe(
    `${file}:5:6 environment.B: \${AWS_SECRET_ACCESS_KEY} is not allowed: add AWS_SECRET_ACCESS_KEY to BOILERHOUSE_WORKLOAD_ENV\n`,
  );
  const listed = { ...env, BOILERHOUSE_WORKLOAD_ENV: 'GREETING,AWS_SECRET_ACCESS_KEY' };
  expect((await runIn(listed, 'workload', 'validate', file)).code).toBe(0);
  const refused = await runIn(
    { ...env, BOILERHOUSE_WORKLOAD_ENV: 'BOILERHOUSE_*' },
    'workload',
    'validate',
    file,
  );
  expect(refused).toMatchObject({ code: 1, out: '' });
  expect(refused.err).toContain(
    `BOILERHOUSE_WORKLOAD_ENV: "BOILERHOUSE_*" names the daemon's own settings (BOILERHOUSE_*), which are never given to workloads`,
  );
});

test.each([
  [[], 2],
  [['--help'], 0],
  [['workload'], 2],
  [['workload', 'validate'], 2],
  [['workload', 'frobnicate'], 2],
  [['pools'], 2],
])('usage: %j exits %d', async (args, code) => {
  expect((await run(...args)).code).toBe(code);
});

test('workload schema prints the JSON Schema', async () => {
  const result = await run('workload', 'schema');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.out)).toMatchObject({ title: 'Boilerhouse workload', type: 'object' });
});

test('the installed command runs on the pinned Node and sets its exit code', async () => {
  const bin = join(root, 'packages/boilerhouse/bin/boilerhouse');
  const malformed = join(root, 'packages/spec/test/malformed/13-min-idle-over-max.yaml');
  const failure = await promisify(execFile)(bin, ['workload', 'validate', malformed]).catch((error) => error);
  expect(failure.code).toBe(1);
  expect(failure.stdout).toBe(`${malformed}:5:13 pool.min_idle: min_idle (5) cannot exceed max_size (2)\n`);
  const success = await promisify(execFile)(bin, ['workload', 'validate', join(root, 'workloads/echo.yaml')]);
  expect(success.stderr).toBe('1 of 1 workload file valid\n');
});

test('--id on apply sets the id the file is sent with: replaced, or added when it has none', () => {
  expect(withId('# echo\nid: echo\nimage: e\n', false, 'echo-staging')).toBe(
    '# echo\nid: "echo-staging"\nimage: e\n',
  );
  expect(withId('image: e\n', false, 'x')).toBe('id: "x"\nimage: e\n');
  expect(JSON.parse(withId('{"id": "echo", "image": "e"}', true, 'y'))).toEqual({ id: 'y', image: 'e' });
});
