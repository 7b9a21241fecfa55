/**
 * A `workloads:write` token cannot read the daemon's environment or host files (the attack: `${VAR}` was
 * filled from the daemon's whole environment, so `${BOILERHOUSE_API_KEY}` came back in instance logs, and
 * `seed: /etc/shadow` or `../data/secret.key` was copied into a volume as root). A real daemon on the real
 * engine: workloads applied over the API with such a token, instances claimed, volumes read on the host.
 */
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getInstance } from '../db/instances.ts';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';
import { whenMissing } from '../testing/missing.ts';

const OPERATOR_ENV = {
  BOILERHOUSE_API_KEY: 'the-daemons-own-admin-key',
  AWS_SECRET_ACCESS_KEY: 'the-daemons-aws-secret',
  GREETING: 'hello from the operator',
  BOILERHOUSE_WORKLOAD_ENV: 'GREETING',
};

let harness: Harness;
let api: TestApi;
let author: string;

beforeAll(async () => {
  harness = await startHarness(
    { 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) },
    { env: OPERATOR_ENV },
  );
  api = testApi(harness);
  const made = await api.request('/api/v1/tokens', {
    method: 'POST',
    body: JSON.stringify({ name: 'workload author', scopes: ['workloads:write'] }),
  });
  expect(made.status).toBe(201);
  author = (await made.json()).token;
});

afterAll(async () => {
  await harness.cleanup();
});

/** The echo workload as `id`, with more environment lines and custom volumes. */
const workload = (id: string, options: { environment?: string[]; custom?: string[]; sink?: string } = {}) =>
  echoWorkload({
    'id: echo': `id: ${id}`,
    'min_idle: 2': 'min_idle: 0',
    '  STATE_DIR: /data\n': ['  STATE_DIR: /data', ...(options.environment ?? []), ''].join('\n'),
    '  state:\n    target: /data\n': ['  state:', '    target: /data', ...(options.custom ?? []), ''].join(
      '\n',
    ),
    ...(options.sink === undefined ? {} : { '    path: sinks/echo': `    path: ${options.sink}` }),
  });

const seed = (name: string, path: string) => [
  '  custom:',
  `    - name: ${name}`,
  `      target: /${name}`,
  `      seed: ${JSON.stringify(path)}`,
];

/** PUT /api/v1/workloads/{id} as the workload author. */
const apply = (id: string, text: string) =>
  api.request(`/api/v1/workloads/${id}`, {
    method: 'PUT',
    body: text,
    headers: { Authorization: `Bearer ${author}`, 'Content-Type': 'application/yaml' },
  });

async function expectRefused(id: string, text: string, path: RegExp, message: string) {
  const response = await apply(id, text);
  expect(response.status).toBe(400);
  const body = await response.text();
  for (const secret of [OPERATOR_ENV.BOILERHOUSE_API_KEY, OPERATOR_ENV.AWS_SECRET_ACCESS_KEY])
    expect(body).not.toContain(secret);
  const { error } = JSON.parse(body);
  expect(error.code).toBe('invalid_workload');
  expect(error.details[0].path).toMatch(path);
  expect(error.details[0].message).toBe(message);
  await expect(readFile(join(harness.workloadsDir, `${id}.yaml`))).rejects.toThrow('ENOENT');
}

/** Claims `id` for a tenant and returns the instance's container and host directory. */
async function claim(id: string) {
  const { instance } = await harness.boilerhouse.claim('author-tenant', id);
  const row = getInstance(harness.db, instance.id);
  return { containerId: row?.containerId as string, dir: join(harness.dataDir, 'instances', instance.id) };
}

describe("the daemon's environment", () => {
  test.each([
    [
      '${BOILERHOUSE_API_KEY}',
      'leak-1',
      ['  LEAK: ${BOILERHOUSE_API_KEY}'],
      /^leak-1\.yaml:\d+:9 environment\.LEAK$/,
      "${BOILERHOUSE_API_KEY} is not allowed: BOILERHOUSE_* variables are the daemon's own settings and are never given to workloads",
    ],
    [
      '${AWS_SECRET_ACCESS_KEY}',
      'leak-2',
      ['  LEAK: ${AWS_SECRET_ACCESS_KEY}'],
      /^leak-2\.yaml:\d+:9 environment\.LEAK$/,
      '${AWS_SECRET_ACCESS_KEY} is not allowed: add AWS_SECRET_ACCESS_KEY to BOILERHOUSE_WORKLOAD_ENV',
    ],
    [
      'an environment key with no value',
      'leak-3',
      ['  AWS_SECRET_ACCESS_KEY:'],
      /^leak-3\.yaml:\d+:\d+ environment\.AWS_SECRET_ACCESS_KEY$/,
      'AWS_SECRET_ACCESS_KEY (no value: taken from the environment) is not allowed: add AWS_SECRET_ACCESS_KEY to BOILERHOUSE_WORKLOAD_ENV',
    ],
  ])('%s is refused, naming the variable and the setting', async (_, id, environment, path, message) => {
    await expectRefused(id, await workload(id, { environment }), path, message);
  });

  test('a listed variable reaches the container; an unlisted one with a default gets the default', async () => {
    const text = await workload('greeter', {
      environment: ['  GREET: ${GREETING}', '  FALLBACK: ${AWS_SECRET_ACCESS_KEY:-none}'],
    });
    expect((await apply('greeter', text)).status).toBe(200);
    const { containerId } = await claim('greeter');
    const printed = await harness.runtime.exec(containerId, ['sh', '-c', 'echo "$GREET|$FALLBACK"; env'], {
      timeoutMs: 10_000,
    });
    expect(printed.output.split('\n')[0]).toBe('hello from the operator|none');
    expect(printed.output).not.toContain(OPERATOR_ENV.AWS_SECRET_ACCESS_KEY);
    expect(printed.output).not.toContain(OPERATOR_ENV.BOILERHOUSE_API_KEY);
  });
});

describe('host files', () => {
  test.each([
    ['/etc/shadow', '"/etc/shadow" must be relative to the workloads directory, not absolute'],
    ['../data/secret.key', '"../data/secret.key" leaves the workloads directory; a seed must be inside it'],
  ])('seed %j is refused', async (path, message) => {
    const id = path.startsWith('/') ? 'shadow' : 'secret-key';
    const text = await workload(id, { custom: seed('stolen', path) });
    await expectRefused(
      id,
      text,
      new RegExp(`^${id}\\.yaml:\\d+:\\d+ volumes\\.custom\\[0\\]\\.seed$`),
      message,
    );
  });

  test.each([
    [
      '/etc',
      '"/etc" must be relative to Boilerhouse\'s data directory and inside its sinks/ folder, such as sinks/echo, not absolute',
    ],
    ['sinks/../secret.key', '"sinks/../secret.key" must stay inside the sinks folder (no "..")'],
  ])('a local sink at %j is refused', async (path, message) => {
    const id = path.startsWith('/') ? 'sink-etc' : 'sink-key';
    const text = await workload(id, { sink: path });
    await expectRefused(id, text, new RegExp(`^${id}\\.yaml:\\d+:\\d+ sync\\.sink\\.path$`), message);
  });

  test('a seed in the workloads directory that is a link to /etc is not followed', async () => {
    await symlink('/etc', join(harness.workloadsDir, 'etc-link'));
    expect(
      (await apply('etc-seed', await workload('etc-seed', { custom: seed('etc', 'etc-link') }))).status,
    ).toBe(200);
    await expect(harness.boilerhouse.claim('author-tenant', 'etc-seed')).rejects.toThrow(
      'seed "etc-link": etc-link is a symbolic link; a seed is never read through a link',
    );
    for (const id of await readdir(join(harness.dataDir, 'instances')).catch(whenMissing([]))) {
      const volume = join(harness.dataDir, 'instances', id, 'volumes', 'custom-etc');
      expect(await readdir(volume).catch(whenMissing([]))).toEqual([]);
    }
  });

  test('a directory seed holding a link to a host file gets the link, never the file; the rest is copied', async () => {
    const tools = join(harness.workloadsDir, 'tools');
    await mkdir(tools);
    await writeFile(join(tools, 'readme.txt'), 'an ordinary seed file\n');
    await symlink('/etc/passwd', join(tools, 'passwd'));
    const text = await workload('tools-seed', { custom: seed('tools', 'tools') });
    expect((await apply('tools-seed', text)).status).toBe(200);
    const { dir, containerId } = await claim('tools-seed');
    const volume = join(dir, 'volumes', 'custom-tools');
    expect(await readFile(join(volume, 'readme.txt'), 'utf8')).toBe('an ordinary seed file\n');
    expect((await lstat(join(volume, 'passwd'))).isSymbolicLink()).toBe(true);
    const seen = await harness.runtime.exec(containerId, ['cat', '/tools/readme.txt'], { timeoutMs: 10_000 });
    expect(seen.output).toBe('an ordinary seed file\n');
  });
});
