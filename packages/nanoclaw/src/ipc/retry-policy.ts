/**
 * How often a request that could not be carried out (its channel down, say) is tried again before it is
 * set aside: a bounded number of attempts, each delay twice the last up to a cap, with ±20% jitter so
 * that requests stalled by one outage do not all come back in the same instant.
 */
import { backoffDelay } from '@boilerhouse/kit/backoff';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/** 8 attempts over about 4 minutes: long enough for a channel to reconnect. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 1000, maxMs: 120_000 };

/** The wait after failed attempt number `failures` (1 for the first). */
export function retryDelay(policy: RetryPolicy, failures: number, random = Math.random()): number {
  return backoffDelay(
    { firstMs: policy.baseMs, longestMs: policy.maxMs, jitter: 0.2 },
    failures,
    () => random,
  );
}
