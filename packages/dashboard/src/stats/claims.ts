/**
 * Claim rate and latency over the last minutes, by path (hit, warm, cold), from the claim events: each
 * carries its path and timings (`data.path`, `data.timingsMs.total`).
 */
import type { ActivityEvent, ClaimPath } from '../api/types.ts';

export const CLAIM_PATHS: readonly ClaimPath[] = ['hit', 'warm', 'cold'];

export interface ClaimSample {
  at: number;
  workload: string | null;
  path: ClaimPath;
  ms: number;
}

export interface Bucket {
  start: number;
  count: Record<ClaimPath, number>;
  p50: Record<ClaimPath, number | null>;
  p95: Record<ClaimPath, number | null>;
}

export function claimSamples(events: readonly ActivityEvent[]): ClaimSample[] {
  const samples: ClaimSample[] = [];
  for (const event of events) {
    // A reserved instance that claims itself back (it wrote to its state) is instance.reclaimed: no claim.
    if (event.type !== 'instance.claimed') continue;
    const path = event.data?.path;
    const total = (event.data?.timingsMs as { total?: unknown } | undefined)?.total;
    if (!CLAIM_PATHS.includes(path as ClaimPath) || typeof total !== 'number') continue;
    samples.push({ at: Date.parse(event.at), workload: event.workload, path: path as ClaimPath, ms: total });
  }
  return samples;
}

/** The q-quantile (0..1) of ascending values, nearest rank; null when there are none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const byPath = <T>(make: (path: ClaimPath) => T) =>
  Object.fromEntries(CLAIM_PATHS.map((path) => [path, make(path)])) as Record<ClaimPath, T>;

/** `minutes` buckets of `bucketMs` ending at `now`, oldest first. */
export function claimBuckets(
  samples: readonly ClaimSample[],
  now: number,
  minutes: number,
  bucketMs = 60_000,
) {
  const first = Math.floor(now / bucketMs) * bucketMs - (minutes - 1) * bucketMs;
  const buckets: Bucket[] = [];
  for (let i = 0; i < minutes; i++) {
    const start = first + i * bucketMs;
    const inside = samples.filter((sample) => sample.at >= start && sample.at < start + bucketMs);
    const sorted = byPath((path) =>
      inside
        .filter((sample) => sample.path === path)
        .map((sample) => sample.ms)
        .sort((a, b) => a - b),
    );
    buckets.push({
      start,
      count: byPath((path) => sorted[path].length),
      p50: byPath((path) => quantile(sorted[path], 0.5)),
      p95: byPath((path) => quantile(sorted[path], 0.95)),
    });
  }
  return buckets;
}

/** Count, p50 and p95 per path over samples since `since`. */
export function claimSummary(samples: readonly ClaimSample[], since: number) {
  return byPath((path) => {
    const sorted = samples
      .filter((sample) => sample.path === path && sample.at >= since)
      .map((sample) => sample.ms)
      .sort((a, b) => a - b);
    return { count: sorted.length, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
  });
}
