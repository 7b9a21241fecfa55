/**
 * Claims the daemon makes by itself for tenants nobody is waiting on (a tenant resumed after its
 * container died, a scheduled wake): a few at a time, each failure tried again after a bounded, jittered
 * back-off, and given up after `maxAttempts`. The jobs themselves are rows of a table their owner reads
 * at every tick; only the back-off is kept here, so after a restart everything is due at once.
 */

import { RetrySchedule } from '@boilerhouse/kit/retry-schedule';
import type { ClaimResult, Claims } from './claims.ts';
import type { Workload } from './workloads.ts';

/** Claims made at once: enough to bring many tenants back quickly, few enough not to starve callers. */
const CONCURRENT = 4;

export interface ClaimJob {
  /** Names the job in the back-off: one per workload and tenant (and trigger, for wakes). */
  key: string;
  workload: Workload;
  tenant: string;
}

export type ClaimOutcome =
  | { ok: true; claim: ClaimResult; attempts: number }
  /** `last`: that was attempt `maxAttempts`; the job is given up on. */
  | { ok: false; error: Error; attempts: number; last: boolean };

export class ClaimRetries {
  readonly #claims: Claims;
  readonly #maxAttempts: number;
  readonly #retries: RetrySchedule;

  constructor(claims: Claims, options: { maxAttempts: number; now: () => number }) {
    this.#claims = claims;
    this.#maxAttempts = options.maxAttempts;
    this.#retries = new RetrySchedule({
      firstMs: 2_000,
      longestMs: 5 * 60_000,
      jitter: 0.2,
      now: options.now,
    });
  }

  /** True unless the job failed and its next attempt is not due yet. */
  due(key: string): boolean {
    return this.#retries.due(key);
  }

  /** Forgets the back-off of every job not in `keys` (done, or gone). */
  keepOnly(keys: ReadonlySet<string>): void {
    this.#retries.keepOnly(keys);
  }

  /** Claims for each job, CONCURRENT at a time; `settle` hears each outcome. */
  async run<J extends ClaimJob>(jobs: J[], settle: (job: J, outcome: ClaimOutcome) => void): Promise<void> {
    for (let start = 0; start < jobs.length; start += CONCURRENT) {
      await Promise.all(
        jobs.slice(start, start + CONCURRENT).map(async (job) => settle(job, await this.#attempt(job))),
      );
    }
  }

  async #attempt(job: ClaimJob): Promise<ClaimOutcome> {
    const attempts = this.#retries.attempted(job.key);
    try {
      const claim = await this.#claims.claim(job.workload, job.tenant);
      this.#retries.forget(job.key);
      return { ok: true, claim, attempts };
    } catch (error) {
      const last = attempts >= this.#maxAttempts;
      if (last) this.#retries.forget(job.key);
      return { ok: false, error: error as Error, attempts, last };
    }
  }
}
