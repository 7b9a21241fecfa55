/**
 * When to try again, per key (an instance, a tenant), for loops that retry many things on one tick: each
 * key's delays are backoff.ts's. Runtime-only: after a restart everything is due at once, which is what
 * recovery wants.
 */
import { type Backoff, backoffDelay } from './backoff.ts';

export interface RetryScheduleOptions extends Backoff {
  now: () => number;
}

interface Entry {
  attempts: number;
  nextAt: number;
}

export class RetrySchedule {
  readonly #options: RetryScheduleOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: RetryScheduleOptions) {
    this.#options = options;
  }

  /** True when `key` has never been tried, or its next attempt is due. */
  due(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry === undefined || this.#options.now() >= entry.nextAt;
  }

  /** Records an attempt at `key` now (one that failed, or may) and returns how many there have been. */
  attempted(key: string): number {
    const entry = this.#entries.get(key) ?? { attempts: 0, nextAt: 0 };
    entry.attempts++;
    entry.nextAt = this.#options.now() + backoffDelay(this.#options, entry.attempts);
    this.#entries.set(key, entry);
    return entry.attempts;
  }

  attempts(key: string): number {
    return this.#entries.get(key)?.attempts ?? 0;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key not in `keys` (done, or gone). */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.#entries.keys()) if (!keys.has(key)) this.#entries.delete(key);
  }
}
