/**
 * Issue 18: `workload apply` tells what `validate` tells (warnings, images not on this host), its sink is
 * tried before anything is written (a real s3rver on loopback, and a port nothing listens on), and a file of
 * the watched directory that is not served as written is a problem the API lists until it is fixed or gone.
 */
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { S3RVER_CREDENTIALS, type S3Server, startS3Server } from '../state/sinks/s3-server.ts';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let s3: S3Server;
let harness: Harness;
let api: TestApi;

beforeAll(async () => {
  s3 = await startS3Server('problems');
  harness = await startHarness(
    { 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) },
    {
      env: {
        S3_KEY: S3RVER_CREDENTIALS.accessKeyId,
        S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
        S3_WRONG_KEY: 'NOT-A-KEY-S3RVER-KNOWS',
        BOILERHOUSE_WORKLOAD_ENV: 'S3_KEY,S3_SECRET,S3_WRONG_KEY',
      },
    },
  );
  api = testApi(harness);
});

afterAll(async () => {
  await harness?.cleanup();
  await s3?.stop();
});

const put = (id: string, body: string) =>
  api.request(`/api/v1/workloads/${id}`, {
    method: 'PUT',
    body,
    headers: { 'Content-Type': 'application/yaml' },
  });

/** The echo workload as `id`, with no instance kept warm, saving to an S3 bucket. */
function onS3(id: string, sink: { bucket?: string; endpoint?: string; key?: string } = {}): Promise<string> {
  return echoWorkload({
    'id: echo': `id: ${id}`,
    'min_idle: 2': 'min_idle: 0',
    '    type: local\n    path: sinks/echo': [
      '    type: s3',
      `    bucket: ${sink.bucket ?? s3.bucket}`,
      `    endpoint: ${sink.endpoint ?? s3.endpoint}`,
      '    force_path_style: true',
      '    credentials:',
      `      access_key_id: \${${sink.key ?? 'S3_KEY'}}`,
      '      secret_access_key: ${S3_SECRET}',
    ].join('\n'),
  });
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const problems = async () => (await (await api.request('/api/v1/workloads')).json()).problems;
const eventsOf = (type: string, file: string) =>
  harness.boilerhouse.events(200).filter((event) => event.type === type && event.data?.file === file);

describe('apply', () => {
  test('warnings come back with the applied workload, and so does an image that is not on this host', async () => {
    const text = await echoWorkload({
      'id: echo': 'id: warned',
      'image: boilerhouse/echo:latest': 'image: boilerhouse/not-built-here:latest',
      'min_idle: 2': 'min_idle: 0',
      'affinity_timeout: 10m': 'affinity_timeout: 500',
    });
    const response = await put('warned', text);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ id: 'warned', created: true });
    expect(body.warnings).toEqual([
      {
        path: expect.stringMatching(/^warned\.yaml:\d+:\d+ pool\.affinity_timeout$/),
        message:
          '500ms is very short; a bare number here is in milliseconds (write a unit, e.g. "30s", if you meant another)',
      },
      {
        path: 'warned.yaml image',
        message:
          'image boilerhouse/not-built-here:latest is not on this host (there is no registry: build it first); no instance can start until it is',
      },
    ]);
    const clean = await (await put('warned', await echoWorkload({ 'id: echo': 'id: warned' }))).json();
    expect(clean.warnings).toEqual([]);
  });

  test('a sink that refuses the credentials, has no such bucket or does not answer refuses the apply, saying which; nothing is written', async () => {
    const refused = await put('stored', await onS3('stored', { key: 'S3_WRONG_KEY' }));
    expect(refused.status).toBe(400);
    const { error } = await refused.json();
    expect(error.code).toBe('sink_unusable');
    expect(error.message).toMatch(
      new RegExp(
        `^workload stored is not applied: the S3 sink s3://${s3.bucket} at ${s3.endpoint} refused the credentials \\(InvalidAccessKeyId: `,
      ),
    );
    expect(error.message).not.toContain('NOT-A-KEY-S3RVER-KNOWS');

    const noBucket = await put('stored', await onS3('stored', { bucket: 'not-made-yet' }));
    expect(noBucket.status).toBe(400);
    expect((await noBucket.json()).error.message).toContain(
      'has no bucket "not-made-yet" (NoSuchBucket: The specified bucket does not exist (HTTP 404)): create it, or correct sync.sink.bucket',
    );

    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await put('stored', await onS3('stored', { endpoint }));
    expect(unreachable.status).toBe(502);
    expect((await unreachable.json()).error.message).toMatch(
      new RegExp(`the S3 sink s3://${s3.bucket} at ${endpoint} cannot be reached \\(ECONNREFUSED: `),
    );
    await expect(readFile(join(harness.workloadsDir, 'stored.yaml'))).rejects.toThrow('ENOENT');
    expect(harness.boilerhouse.workloads.get('stored')).toBeUndefined();

    const applied = await put('stored', await onS3('stored'));
    expect(applied.status).toBe(200);
    expect(await problems()).toEqual([]);
  });
});

describe('problems of the watched directory', () => {
  test('a broken file is listed with its errors until fixed; said once, and cleared by the fix', async () => {
    await harness.writeWorkload('vault.yaml', 'id: vault\nimage: boilerhouse/echo:latest\nspool: {}\n');
    await harness.boilerhouse.workloads.load();
    expect(await problems()).toEqual([
      {
        file: 'vault.yaml',
        workload: 'vault',
        kind: 'invalid',
        message: 'vault.yaml is not valid; not loaded',
        details: [{ path: 'vault.yaml:3:1 spool', message: 'unknown key "spool"; did you mean "pool"?' }],
        since: expect.any(String),
      },
    ]);
    // Reloads do not say it again.
    await harness.boilerhouse.workloads.load();
    expect(eventsOf('pool.warning', 'vault.yaml')).toHaveLength(1);

    // A token that reaches only echo does not see another workload's file.
    const made = await api.request('/api/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'echo reader', scopes: ['read'], workloads: ['echo'] }),
    });
    const { token } = await made.json();
    const limited = await api.raw('/api/v1/workloads', { headers: { Authorization: `Bearer ${token}` } });
    expect((await limited.json()).problems).toEqual([]);

    await harness.writeWorkload(
      'vault.yaml',
      await echoWorkload({ 'id: echo': 'id: vault', 'min_idle: 2': 'min_idle: 0' }),
    );
    await harness.boilerhouse.workloads.load();
    expect(await problems()).toEqual([]);
    const [fixed] = eventsOf('pool.fixed', 'vault.yaml');
    expect(fixed?.message).toMatch(/^vault\.yaml loads again as workload vault \(version [0-9a-f]{12}\)$/);
  });

  test('a loaded workload whose file breaks keeps its version, and the problem goes with its file', async () => {
    const version = harness.boilerhouse.pool('vault').version;
    await harness.writeWorkload('vault.yaml', 'id: vault\nimgae: x\n');
    await harness.boilerhouse.workloads.load();
    const [problem] = await problems();
    expect(problem).toMatchObject({
      workload: 'vault',
      message: `vault.yaml is not valid; keeping the previous version (${version})`,
    });
    await rm(join(harness.workloadsDir, 'vault.yaml'));
    await harness.boilerhouse.workloads.load();
    expect(await problems()).toEqual([]);
    expect(eventsOf('pool.fixed', 'vault.yaml').map((event) => event.message)).toContain(
      'vault.yaml is gone, and its problem with it',
    );
    expect(harness.boilerhouse.pool('vault').removed).toBe(true);
  });

  test('a file whose sink cannot be used is served, with the problem shown until the sink answers', async () => {
    await harness.writeWorkload('later.yaml', await onS3('later', { bucket: 'made-later' }));
    await harness.boilerhouse.workloads.load();
    expect(harness.boilerhouse.pool('later').removed).toBe(false);
    const [problem] = await problems();
    expect(problem).toMatchObject({ file: 'later.yaml', workload: 'later', kind: 'sink' });
    expect(problem.message).toMatch(
      /^workload later is served, but its sink cannot be used: the S3 sink s3:\/\/made-later at .* has no bucket "made-later"/,
    );

    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'made-later' }));
    } finally {
      client.destroy();
    }
    await harness.boilerhouse.workloads.recheckSinks();
    expect(await problems()).toEqual([]);
    expect(eventsOf('pool.fixed', 'later.yaml').map((event) => event.message)).toEqual([
      expect.stringMatching(/^the S3 sink of later answers \(version [0-9a-f]{12}\)$/),
    ]);
  });

  test('a sink that does not answer is a problem of the file, gone when the file is', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    await harness.writeWorkload('away.yaml', await onS3('away', { endpoint }));
    await harness.boilerhouse.workloads.load();
    const [problem] = await problems();
    expect(problem).toMatchObject({ file: 'away.yaml', workload: 'away', kind: 'sink' });
    expect(problem.message).toContain(`at ${endpoint} cannot be reached (ECONNREFUSED: `);
    await rm(join(harness.workloadsDir, 'away.yaml'));
    await harness.boilerhouse.workloads.load();
    expect(await problems()).toEqual([]);
  });
});
