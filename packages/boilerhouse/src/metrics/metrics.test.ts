/** Metrics of a real Boilerhouse on the real Docker engine, read back from the exposition text. */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import type { PoolStatus } from '../admin/pools.ts';
import { PoolExhaustedError } from '../errors.ts';
import type { ObjectCacheStats } from '../state/sinks/object-cache.ts';
import { counter, echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';
import { Metrics } from './metrics.ts';
import { objectCacheMetrics } from './object-cache.ts';
import { poolGauges } from './pools.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
// Prometheus reads floats the way Go does: Inf and NaN in any case (prom-client writes NaN as "Nan").
const VALUE = '[-+]?(?:\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?|[Ii][Nn][Ff]|[Nn][Aa][Nn])';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (${VALUE})(?: -?\\d+)?$`);
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parses the Prometheus text format (0.0.4), failing on any line that breaks it: HELP/TYPE comments, then
 * samples of declared families only (a histogram's as _bucket, _sum and _count), each family's lines together.
 */
function parseExposition(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const comment = COMMENT.exec(line);
    if (comment !== null) {
      const [, kind, name] = comment as unknown as [string, string, string, string | undefined];
      if (kind === 'TYPE') {
        expect(TYPES, line).toContain(comment[3]);
        expect(types.has(name), `${name} declared twice`).toBe(false);
        types.set(name, comment[3] as string);
      }
      if (current !== name) expect(seen.has(name), `${name}'s lines are not together`).toBe(false);
      current = name;
      seen.add(name);
      continue;
    }
    const match = SAMPLE.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const [, name, labelText, value] = match as unknown as [string, string, string | undefined, string];
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((candidate) => types.has(candidate));
    expect(family, `${name} has no TYPE`).toBe(current);
    const labels: Record<string, string> = {};
    for (const pair of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value: Number(value.replace(/inf/i, 'Infinity').replace(/nan/i, 'NaN')) });
  }
  return samples;
}

/** The one sample with this name and (at least) these labels. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

async function scrape(metrics: Metrics): Promise<Sample[]> {
  const { contentType, body } = await metrics.render();
  expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(body);
}

let harness: Harness | undefined;
let metrics: Metrics | undefined;

afterEach(async () => {
  metrics?.close();
  metrics = undefined;
  await harness?.cleanup();
  harness = undefined;
});

describe('a daemon at work', () => {
  test('claims by path, a release, a save, an exhausted pool, and pool gauges equal to pools()', async () => {
    harness = await startHarness({
      'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 1', 'max_size: 10': 'max_size: 2' }),
    });
    const bh = harness.boilerhouse;
    metrics = new Metrics(bh);
    const tenants = ['alice@example.org', 'bob@example.org', 'carol@example.org'];
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');

    const warm = await bh.claim(tenants[0] as string, 'echo');
    expect(warm.path).toBe('warm');
    await counter(warm.endpoints[0]?.url as string);
    expect((await bh.release(tenants[0] as string, 'echo')).outcome).toBe('reserved');
    expect((await bh.claim(tenants[0] as string, 'echo')).path).toBe('hit');
    // Claimed again while held: answered with the same instance, a hit as the answer says.
    expect((await bh.claim(tenants[0] as string, 'echo')).path).toBe('hit');
    // Saved now with nothing written since the claim's restore: an unchanged save.
    expect((await bh.sync(tenants[0] as string, 'echo', 'upload'))?.changed).toBe(false);
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a refill');
    expect((await bh.claim(tenants[1] as string, 'echo')).path).toBe('warm');
    // Both slots are claimed and nothing is reserved: nothing can be evicted.
    await expect(bh.claim(tenants[2] as string, 'echo')).rejects.toBeInstanceOf(PoolExhaustedError);
    await waitFor(() => bh.pool('echo').instances.creating === 0, 20_000, 'no creation under way');

    const pools = bh.pools();
    const samples = await scrape(metrics);
    const claims = 'boilerhouse_claim_duration_seconds_count';
    expect(sampleValue(samples, claims, { workload: 'echo', path: 'warm' })).toBe(2);
    expect(sampleValue(samples, claims, { workload: 'echo', path: 'hit' })).toBe(2);
    expect(samples.filter((sample) => sample.labels.path === 'repeat')).toEqual([]);
    expect(sampleValue(samples, claims, { path: 'cold' })).toBeUndefined();
    const warmBuckets = samples.filter(
      (sample) =>
        sample.name === 'boilerhouse_claim_duration_seconds_bucket' && sample.labels.path === 'warm',
    );
    expect(warmBuckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: 2 });
    expect(
      sampleValue(samples, 'boilerhouse_claim_errors_total', { workload: 'echo', code: 'pool_exhausted' }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'boilerhouse_release_duration_seconds_count', {
        workload: 'echo',
        outcome: 'reserved',
        reserve: 'run',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'boilerhouse_state_duration_seconds_count', {
        workload: 'echo',
        direction: 'save',
      }),
    ).toBe(2);
    expect(sampleValue(samples, 'boilerhouse_state_unchanged_saves_total', { workload: 'echo' })).toBe(1);
    expect(
      sampleValue(samples, 'boilerhouse_state_bytes_total', { workload: 'echo', direction: 'save' }),
    ).toBeGreaterThan(0);

    // Pool gauges: the same figures as pools(), phase by phase.
    const pool = pools.find((candidate) => candidate.workload === 'echo');
    expect(pool).toBeDefined();
    for (const [phase, count] of Object.entries(pool?.instances ?? {})) {
      expect(sampleValue(samples, 'boilerhouse_pool_instances', { workload: 'echo', phase }), phase).toBe(
        count,
      );
    }
    expect(sampleValue(samples, 'boilerhouse_pool_instances', { phase: 'claimed' })).toBe(2);
    expect(sampleValue(samples, 'boilerhouse_pool_size', { workload: 'echo' })).toBe(2);
    expect(sampleValue(samples, 'boilerhouse_pool_min_idle', { workload: 'echo' })).toBe(1);
    expect(sampleValue(samples, 'boilerhouse_pool_max_size', { workload: 'echo' })).toBe(2);
    // Node's own metrics are there too.
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // No tenant and no instance ever becomes a label value.
    const ids = [...tenants, ...bh.instances().map((instance) => instance.id)];
    const values = new Set(samples.flatMap((sample) => Object.values(sample.labels)));
    for (const id of ids) expect(values.has(id), id).toBe(false);
    expect([...values].filter((value) => value.includes('@'))).toEqual([]);
  });

  test('idle resets and expiry, then a restore of the state saved by the idle release', async () => {
    harness = await startHarness({
      'echo.yaml': await echoWorkload({
        'min_idle: 2': 'min_idle: 1',
        'affinity_timeout: 10m': 'affinity_timeout: 0',
        'file_idle_ttl: 5m': 'file_idle_ttl: 2s',
      }),
    });
    const bh = harness.boilerhouse;
    metrics = new Metrics(bh);
    const live = metrics;
    const read = async (name: string, labels: Record<string, string>) =>
      sampleValue(await scrape(live), name, labels) ?? 0;
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');

    const first = await bh.claim('dora', 'echo');
    const url = first.endpoints[0]?.url as string;
    // Let the idle watch see the instance once, then write: the deadline moves out.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await counter(url)).toBe(1);
    await waitFor(async () => (await read('boilerhouse_idle_resets_total', { workload: 'echo' })) >= 1);
    // Then nothing more: released for idleness, saved, and destroyed (affinity is off).
    const released = { workload: 'echo', outcome: 'destroyed', reserve: 'none' };
    await waitFor(
      async () => (await read('boilerhouse_release_duration_seconds_count', released)) === 1,
      10_000,
      'the idle release',
    );
    expect(await read('boilerhouse_idle_expirations_total', { workload: 'echo' })).toBe(1);
    expect(bh.tenant('dora').instances).toEqual([]);

    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a refill');
    const second = await bh.claim('dora', 'echo');
    expect(await counter(second.endpoints[0]?.url as string)).toBe(2);
    const samples = await scrape(live);
    const state = (name: string, direction: string) =>
      sampleValue(samples, name, { workload: 'echo', direction });
    expect(state('boilerhouse_state_duration_seconds_count', 'save')).toBe(1);
    expect(state('boilerhouse_state_duration_seconds_count', 'restore')).toBe(1);
    expect(state('boilerhouse_state_bytes_total', 'restore')).toBeGreaterThan(0);
    expect(state('boilerhouse_state_errors_total', 'save')).toBeUndefined();
  });
});

test('failed health tests of a claimed instance, then the instance reported unhealthy', async () => {
  // Healthy until the tenant's first GET /counter writes /data/counter.
  harness = await startHarness({
    'echo.yaml': await echoWorkload({
      'min_idle: 2': 'min_idle: 1',
      'test: ["CMD", "bash", "-c",': 'test: ["CMD", "bash", "-c", "test ! -e /data/counter"]\n  # was:',
      'interval: 10s': 'interval: 1s',
      'retries: 3': 'retries: 2',
    }),
  });
  const bh = harness.boilerhouse;
  metrics = new Metrics(bh);
  const live = metrics;
  const read = async (name: string) => sampleValue(await scrape(live), name, { workload: 'echo' }) ?? 0;
  await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');
  const claim = await bh.claim('erin', 'echo');
  expect(await read('boilerhouse_health_check_failures_total')).toBe(0);

  await counter(claim.endpoints[0]?.url as string);
  await waitFor(
    async () => (await read('boilerhouse_instances_unhealthy_total')) === 1,
    20_000,
    'the instance reported unhealthy',
  );
  expect(await read('boilerhouse_health_check_failures_total')).toBeGreaterThanOrEqual(2);
  expect(bh.events(50).some((event) => event.type === 'instance.unhealthy')).toBe(true);
});

describe('HTTP requests (as the API middleware reports them)', () => {
  test('by method, route template and status code', async () => {
    harness = await startHarness({}, { start: false });
    metrics = new Metrics(harness.boilerhouse);
    metrics.observeHttp('GET', '/api/v1/tenants/:tenant', 200, 0.002);
    metrics.observeHttp('GET', '/api/v1/tenants/:tenant', 200, 0.004);
    metrics.observeHttp('post', '/api/v1/tenants/:tenant/claim', 503, 0.05);
    metrics.observeHttp('GET', 'unmatched', 404, 0.001);
    const samples = await scrape(metrics);
    const count = 'boilerhouse_http_request_duration_seconds_count';
    expect(samples.filter((sample) => sample.name === count).map((s) => [s.labels, s.value])).toEqual([
      [{ method: 'GET', route: '/api/v1/tenants/:tenant', status: '200' }, 2],
      [{ method: 'POST', route: '/api/v1/tenants/:tenant/claim', status: '503' }, 1],
      [{ method: 'GET', route: 'unmatched', status: '404' }, 1],
    ]);
    expect(
      sampleValue(samples, 'boilerhouse_http_request_duration_seconds_bucket', {
        route: '/api/v1/tenants/:tenant',
        le: '0.0025',
      }),
    ).toBe(1);
  });

  test('more distinct routes than an API has are folded into "other"', async () => {
    harness = await startHarness({}, { start: false });
    metrics = new Metrics(harness.boilerhouse);
    for (let i = 0; i < 150; i++) metrics.observeHttp('GET', `/raw/${i}`, 200, 0.001);
    metrics.observeHttp('BREW', '/raw/0', 418, 0.001);
    const samples = (await scrape(metrics)).filter(
      (sample) => sample.name === 'boilerhouse_http_request_duration_seconds_count',
    );
    expect(samples).toHaveLength(102);
    expect(sampleValue(samples, samples[0]?.name as string, { route: 'other' })).toBe(50);
    expect(sampleValue(samples, samples[0]?.name as string, { method: 'other' })).toBe(1);
  });
});

test('pool gauges read the pools once per scrape, and again at the next', async () => {
  const registry = new Registry();
  let reads = 0;
  let scrape = 1;
  const pool = {
    workload: 'echo',
    minIdle: 2,
    maxSize: 10,
    instances: { ready: 2, claimed: 1, failed: 1 },
    oldVersion: { ready: 0, claimed: 1, failed: 0 },
    fill: { consecutiveFailures: 3 },
  } as unknown as PoolStatus;
  poolGauges(
    registry,
    () => {
      reads++;
      return [pool];
    },
    () => scrape,
  );
  const first = parseExposition(await registry.metrics());
  expect(reads).toBe(1);
  expect(sampleValue(first, 'boilerhouse_pool_size', { workload: 'echo' })).toBe(4);
  expect(sampleValue(first, 'boilerhouse_pool_fill_failures', { workload: 'echo' })).toBe(3);
  expect(sampleValue(first, 'boilerhouse_pool_old_version_instances', { workload: 'echo' })).toBe(1);
  scrape++;
  await registry.metrics();
  expect(reads).toBe(2);
});

test("the state object cache's figures are read at each scrape, and zero with no cache", async () => {
  const registry = new Registry();
  let stats: ObjectCacheStats | undefined = {
    hits: 3,
    hitBytes: 3_000,
    misses: 1,
    errors: 0,
    skipped: 2,
    entries: 4,
    bytes: 4_000,
  };
  objectCacheMetrics(registry, () => stats);
  const first = parseExposition(await registry.metrics());
  expect(sampleValue(first, 'boilerhouse_state_cache_hits_total')).toBe(3);
  expect(sampleValue(first, 'boilerhouse_state_cache_hit_bytes_total')).toBe(3_000);
  expect(sampleValue(first, 'boilerhouse_state_cache_misses_total')).toBe(1);
  expect(sampleValue(first, 'boilerhouse_state_cache_skipped_total')).toBe(2);
  expect(sampleValue(first, 'boilerhouse_state_cache_bytes')).toBe(4_000);
  stats = { ...stats, hits: 5 };
  expect(sampleValue(parseExposition(await registry.metrics()), 'boilerhouse_state_cache_hits_total')).toBe(
    5,
  );
  stats = undefined;
  const off = parseExposition(await registry.metrics());
  expect(sampleValue(off, 'boilerhouse_state_cache_hits_total')).toBe(0);
  expect(sampleValue(off, 'boilerhouse_state_cache_bytes')).toBe(0);
});

test('render writes what the registry would, one metric at a time', async () => {
  harness = await startHarness({}, { start: false });
  metrics = new Metrics(harness.boilerhouse);
  metrics.observeHttp('GET', '/api/v1/pools', 200, 0.003);
  const { body } = await metrics.render();
  const names = body.split('\n').filter((line) => line.startsWith('# TYPE '));
  expect(names.length).toBeGreaterThan(20);
  expect(body).toMatch(/\n\n# HELP boilerhouse_pool_size /);
  expect(body.endsWith('\n')).toBe(true);
  expect(body.endsWith('\n\n')).toBe(false);
  parseExposition(body);
});
