/**
 * Issue 15, storage faults: the S3 sink goes away (its server stopped) while a tenant's state must be
 * saved, then comes back on the same port with the same objects. Nothing acknowledged is lost, the tenant
 * claims again and sees all of it, and the failure shows in the events and in /metrics.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Metrics } from '../../packages/boilerhouse/src/metrics/metrics.ts';
import {
  counter,
  type Harness,
  startHarness,
  waitFor,
} from '../../packages/boilerhouse/src/testing/harness.ts';
import { echoOnS3, S3_ENV } from './testing/echo-s3.ts';
import { promtoolCheck, sampleSum } from './testing/metrics.ts';
import { findOrphans, NO_ORPHANS } from './testing/orphans.ts';
import { type RestartableS3, startRestartableS3 } from './testing/s3.ts';

let harness: Harness | undefined;
let metrics: Metrics | undefined;
let s3: RestartableS3 | undefined;

afterEach(async () => {
  metrics?.close();
  await harness?.cleanup();
  await s3?.remove();
  harness = metrics = s3 = undefined;
});

const ALICE = 'alice@example.org';

async function start(replacements: Record<string, string>): Promise<Harness> {
  s3 = await startRestartableS3('faults-s3-down');
  harness = await startHarness(
    { 'echo.yaml': await echoOnS3(s3.endpoint, s3.bucket, replacements) },
    { env: S3_ENV },
  );
  metrics = new Metrics(harness.boilerhouse);
  return harness;
}

/** The echo instance's counter as its state volume holds it on the host. */
async function counterOnDisk(h: Harness, instance: string): Promise<number> {
  return Number(
    await readFile(join(h.dataDir, 'instances', instance, 'volumes', 'state', 'counter'), 'utf8'),
  );
}

test('issue 15: the S3 sink down during a release: release_failed with its data, retried with back-off, saved once the sink is back', async () => {
  const h = await start({
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
    '    interval: 30s': '    interval: 1h',
  });
  const bh = h.boilerhouse;
  const first = await bh.claim(ALICE, 'echo');
  expect(await counter(first.endpoints[0]?.url as string)).toBe(1);
  await bh.release(ALICE, 'echo');
  const second = await bh.claim(ALICE, 'echo');
  const url = second.endpoints[0]?.url as string;
  // Restored from save 1, then two more acknowledged writes.
  expect([await counter(url), await counter(url), await counter(url)]).toEqual([2, 3, 4]);

  await s3?.stop();
  const failure = await bh.release(ALICE, 'echo').catch((error: Error & { code?: string }) => error);
  expect(failure).toMatchObject({ code: 'save_failed' });
  expect((failure as Error).message).toContain(`at ${s3?.endpoint} failed: ECONNREFUSED`);
  const [kept] = bh.tenant(ALICE).instances;
  expect(kept?.id).toBe(second.instance.id);
  expect(kept?.phase).toBe('release_failed');
  expect(await counterOnDisk(h, second.instance.id)).toBe(4);
  // The release and at least one retry failed, each an event; the sink is still down.
  const failedSaves = () =>
    bh.events(100).filter((event) => event.type === 'state.failed' && event.data?.why === 'release');
  await waitFor(() => failedSaves().length >= 2, 30_000, 'a retried save');
  expect(failedSaves()[0]?.message).toContain('ECONNREFUSED');
  expect(failedSaves()[0]?.data).toMatchObject({ direction: 'save', cause: 'sink_unavailable' });
  expect(bh.tenant(ALICE).instances.map((instance) => instance.phase)).toEqual(['release_failed']);

  await s3?.start();
  // A retry saves it; affinity is off, so the instance goes once saved.
  await waitFor(() => bh.tenant(ALICE).instances.length === 0, 60_000, 'the retried release');
  const saved = bh.events(100).find((event) => event.type === 'state.saved' && event.data?.seq === 2);
  expect(saved?.instance).toBe(second.instance.id);

  const third = await bh.claim(ALICE, 'echo');
  expect(await counter(third.endpoints[0]?.url as string)).toBe(5);
  expect(await findOrphans(h)).toEqual(NO_ORPHANS);

  const exposition = (await (metrics as Metrics).render()).body;
  const errors = sampleSum(exposition, 'boilerhouse_state_errors_total', {
    workload: 'echo',
    direction: 'save',
    cause: 'sink_unavailable',
  });
  expect(errors).toBeGreaterThanOrEqual(2);
  const failedReleases = { workload: 'echo', outcome: 'failed' };
  expect(sampleSum(exposition, 'boilerhouse_release_duration_seconds_count', failedReleases)).toBe(1);
  expect(await promtoolCheck(exposition)).toEqual({ code: 0, output: '' });
});

test('issue 15: the S3 sink down during interval saves: each failure an event and a metric, the next save after it comes back has everything', async () => {
  const h = await start({
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
    '    interval: 30s': '    interval: 1s',
  });
  const bh = h.boilerhouse;
  const claim = await bh.claim(ALICE, 'echo');
  const url = claim.endpoints[0]?.url as string;
  expect(await counter(url)).toBe(1);
  const intervalSaves = (type: string) =>
    bh.events(200).filter((event) => event.type === type && event.data?.why === 'interval');
  await waitFor(() => intervalSaves('state.saved').length === 1, 20_000, 'the first interval save');

  await s3?.stop();
  expect(await counter(url)).toBe(2);
  await waitFor(() => intervalSaves('state.failed').length >= 1, 20_000, 'a failed interval save');
  expect(intervalSaves('state.failed')[0]?.message).toMatch(/^saving .* on interval failed: .*ECONNREFUSED/);
  const down = (await (metrics as Metrics).render()).body;
  const unavailable = { workload: 'echo', direction: 'save', cause: 'sink_unavailable' };
  expect(sampleSum(down, 'boilerhouse_state_errors_total', unavailable)).toBeGreaterThan(0);
  // The tenant goes on working meanwhile; its instance is still its own.
  expect(await counter(url)).toBe(3);
  expect(bh.tenant(ALICE).instances.map((instance) => instance.phase)).toEqual(['claimed']);

  await s3?.start();
  await waitFor(() => intervalSaves('state.saved').length === 2, 20_000, 'an interval save after the outage');
  // Released (nothing new to save) and destroyed: the next instance starts from the bucket alone.
  await bh.release(ALICE, 'echo');
  expect(bh.tenant(ALICE).instances).toEqual([]);
  const again = await bh.claim(ALICE, 'echo');
  expect(await counter(again.endpoints[0]?.url as string)).toBe(4);
  expect(await findOrphans(h)).toEqual(NO_ORPHANS);
  expect(await promtoolCheck((await (metrics as Metrics).render()).body)).toEqual({ code: 0, output: '' });
});

test('issue 15: the S3 sink down at a claim: the claim fails and says why, rather than starting the tenant from nothing', async () => {
  const h = await start({
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
    '    interval: 30s': '    interval: 1h',
  });
  const bh = h.boilerhouse;
  const first = await bh.claim(ALICE, 'echo');
  expect(await counter(first.endpoints[0]?.url as string)).toBe(1);
  await bh.release(ALICE, 'echo');

  await s3?.stop();
  const failure = await bh.claim(ALICE, 'echo').catch((error: Error & { code?: string }) => error);
  expect(failure).toMatchObject({
    code: 'instance_failed',
    message: expect.stringContaining('ECONNREFUSED'),
  });
  expect(bh.tenant(ALICE).instances).toEqual([]);
  const failed = bh.events(100).find((event) => event.type === 'state.failed');
  expect(failed?.data).toMatchObject({ why: 'claim', direction: 'restore', cause: 'sink_unavailable' });
  expect(await findOrphans(h)).toEqual(NO_ORPHANS);
  expect(await h.containers()).toEqual([]);

  await s3?.start();
  const back = await bh.claim(ALICE, 'echo');
  expect(await counter(back.endpoints[0]?.url as string)).toBe(2);
  const exposition = (await (metrics as Metrics).render()).body;
  const unavailable = { workload: 'echo', direction: 'restore', cause: 'sink_unavailable' };
  expect(sampleSum(exposition, 'boilerhouse_state_errors_total', unavailable)).toBe(1);
  expect(await promtoolCheck(exposition)).toEqual({ code: 0, output: '' });
});
