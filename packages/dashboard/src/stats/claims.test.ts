import { expect, test } from 'vitest';
import type { ActivityEvent } from '../api/types.ts';
import { claimBuckets, claimSamples, claimSummary, quantile } from './claims.ts';

const MINUTE = 60_000;
const NOW = Date.parse('2025-01-01T12:10:30Z');

function claim(id: number, minutesAgo: number, path: string | undefined, total: number): ActivityEvent {
  return {
    id,
    at: new Date(NOW - minutesAgo * MINUTE).toISOString(),
    type: 'instance.claimed',
    workload: 'echo',
    tenant: 't',
    instance: 'echo-1',
    message: '',
    data: path === undefined ? null : { path, timingsMs: { total } },
  };
}

test('quantiles are nearest-rank; none of nothing', () => {
  expect(quantile([], 0.5)).toBeNull();
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
  expect(quantile([1, 2, 3, 4], 0.95)).toBe(4);
  expect(quantile([5], 0.95)).toBe(5);
});

test('claims are counted per minute and path, with p50/p95; a reservation claiming itself back is no claim', () => {
  const events = [
    claim(1, 20, 'cold', 400), // outside a 15-minute window
    claim(2, 2.2, 'warm', 60),
    claim(3, 2.1, 'warm', 80),
    claim(4, 2.0, 'warm', 100),
    claim(5, 0.2, 'hit', 0.4),
    { ...claim(6, 0.1, undefined, 0), type: 'instance.reclaimed' as const },
    { ...claim(7, 0.1, 'warm', 10), type: 'instance.ready' as const },
  ];
  const samples = claimSamples(events);
  expect(samples.map((sample) => sample.path)).toEqual(['cold', 'warm', 'warm', 'warm', 'hit']);
  const buckets = claimBuckets(samples, NOW, 15);
  expect(buckets).toHaveLength(15);
  expect(buckets.at(-1)?.start).toBe(Date.parse('2025-01-01T12:10:00Z'));
  const withWarm = buckets.filter((bucket) => bucket.count.warm > 0);
  expect(withWarm).toHaveLength(1);
  expect(withWarm[0]).toMatchObject({
    count: { warm: 3, hit: 0, cold: 0 },
    p50: { warm: 80 },
    p95: { warm: 100 },
  });
  expect(buckets.at(-1)).toMatchObject({ count: { hit: 1 }, p50: { hit: 0.4, cold: null } });
  expect(claimSummary(samples, NOW - 15 * MINUTE)).toEqual({
    hit: { count: 1, p50: 0.4, p95: 0.4 },
    warm: { count: 3, p50: 80, p95: 100 },
    cold: { count: 0, p50: null, p95: null },
  });
});
