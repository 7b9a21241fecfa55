/**
 * When to try again, per key (an instance, a tenant): exponential back-off from `firstMs`, capped at
 * `longestMs`, each delay jittered by ±`jitter` so that many retries started by one fault (an engine
 * restart, a sink outage) do not all fire in the same second. Runtime-only: after a restart everything
 * is due at once, which is what recovery wants.
 */
export interface RetryScheduleOptions {
  firstMs: number;
  longestMs: number;
  /** Fraction of each delay added or taken away at random (0.2: ±20%). */
  jitter: number;
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
    const { firstMs, longestMs, jitter, now } = this.#options;
    const entry = this.#entries.get(key) ?? { attempts: 0, nextAt: 0 };
    entry.attempts++;
    const delay = Math.min(firstMs * 2 ** (entry.attempts - 1), longestMs);
    entry.nextAt = now() + Math.round(delay * (1 + jitter * (2 * Math.random() - 1)));
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
