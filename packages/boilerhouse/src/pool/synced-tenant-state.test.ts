/** Tenant state across claims, on the real Docker engine with the echo workload and a local sink. */
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { SaveFailedError } from '../errors.ts';
import { S3RVER_CREDENTIALS, startS3Server } from '../state/sinks/s3-server.ts';
import { counter, echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

test("a tenant's state follows it to a new instance: saved at release, restored before the workload starts", async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 1',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const first = await bh.claim('ana@example.org', 'echo');
  const url = first.endpoints[0]?.url as string;
  expect([await counter(url), await counter(url)]).toEqual([1, 2]);
  // Affinity 0: the instance is destroyed at release, after its state was saved.
  expect((await bh.release('ana@example.org', 'echo')).outcome).toBe('destroyed');
  const saved = bh.events(30).find((event) => event.type === 'state.saved');
  expect(saved?.data).toMatchObject({ seq: 1, why: 'release', changed: true });

  const second = await bh.claim('ana@example.org', 'echo');
  expect(second.instance.id).not.toBe(first.instance.id);
  expect(second.timingsMs.restore).toBeGreaterThan(0);
  expect(await counter(second.endpoints[0]?.url as string)).toBe(3);
  // Another tenant starts from nothing.
  const other = await bh.claim('bob', 'echo');
  expect(await counter(other.endpoints[0]?.url as string)).toBe(1);
});

test('a release whose save fails keeps the instance and its data (release_failed) and retries until saved', async () => {
  const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0' });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const claim = await bh.claim('alice', 'echo');
  const url = claim.endpoints[0]?.url as string;
  await counter(url);
  // The sink directory cannot be written: every save fails.
  const sinkDir = join(harness.dataDir, 'sinks');
  await rm(sinkDir, { recursive: true, force: true });
  await writeFile(sinkDir, 'not a directory');
  await chmod(sinkDir, 0o400);
  await expect(bh.release('alice', 'echo')).rejects.toBeInstanceOf(SaveFailedError);
  const [failed] = bh.tenant('alice').instances;
  expect(failed?.phase).toBe('release_failed');
  expect(failed?.reason).toMatch(/^saving its state failed: /);
  expect(await counter(url)).toBe(2);
  expect(bh.events(20).some((event) => event.type === 'state.failed')).toBe(true);
  // The tenant comes back before the save went through: the same instance, data and all.
  const back = await bh.claim('alice', 'echo');
  expect([back.path, back.instance.id]).toEqual(['hit', claim.instance.id]);
  await expect(bh.release('alice', 'echo')).rejects.toBeInstanceOf(SaveFailedError);
  // Once the sink works again, the retry saves and reserves it.
  await rm(sinkDir, { force: true });
  await waitFor(() => bh.tenant('alice').instances[0]?.phase === 'reserved', 20_000, 'the retried release');
  expect((await bh.snapshots('alice', 'echo')).head).toBe(1);
});

test('a restore that fails (a damaged save) fails the claim cleanly and leaves nothing behind', async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const claim = await bh.claim('alice', 'echo');
  await counter(claim.endpoints[0]?.url as string);
  await bh.release('alice', 'echo');
  const { readdir } = await import('node:fs/promises');
  const packs = join(harness.dataDir, 'sinks', 'echo', 'alice', 'echo', 'packs');
  for (const name of await readdir(packs)) await writeFile(join(packs, name), 'damaged');
  await expect(bh.claim('alice', 'echo')).rejects.toMatchObject({
    code: 'save_damaged',
    message: expect.stringContaining('the saved content is damaged'),
  });
  expect(bh.instances()).toEqual([]);
  expect(await harness.containers()).toEqual([]);
});

test("with an S3 sink, a tenant's state goes to the bucket and comes back on a new instance", async () => {
  const server = await startS3Server('tenant-state');
  try {
    const text = await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'affinity_timeout: 10m': 'affinity_timeout: 0',
      '    type: local\n    path: sinks/echo': [
        '    type: s3',
        '    bucket: tenant-state',
        `    endpoint: ${server.endpoint}`,
        '    force_path_style: true',
        '    prefix: boilerhouse/${tenantId}/',
        '    credentials:',
        '      access_key_id: ${TEST_S3_KEY}',
        '      secret_access_key: ${TEST_S3_SECRET}',
      ].join('\n'),
    });
    harness = await startHarness(
      { 'echo.yaml': text },
      {
        env: {
          TEST_S3_KEY: S3RVER_CREDENTIALS.accessKeyId,
          TEST_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
          BOILERHOUSE_WORKLOAD_ENV: 'TEST_S3_KEY,TEST_S3_SECRET',
        },
      },
    );
    const bh = harness.boilerhouse;
    const first = await bh.claim('+4915112345678', 'echo');
    await counter(first.endpoints[0]?.url as string);
    await bh.release('+4915112345678', 'echo');
    const second = await bh.claim('+4915112345678', 'echo');
    expect(await counter(second.endpoints[0]?.url as string)).toBe(2);
    // The save's manifest and pack came back from this host's cache, not the bucket.
    expect(bh.objectCache?.stats()).toMatchObject({ hits: 2, misses: 0 });
    const { head, saves } = await bh.snapshots('+4915112345678', 'echo');
    expect(head).toBe(1);
    expect(saves).toHaveLength(1);
    // Nothing in the activity log carries the credentials.
    const log = JSON.stringify(bh.events(100));
    expect(log).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
  } finally {
    await harness?.cleanup();
    harness = undefined;
    await server.stop();
  }
});
