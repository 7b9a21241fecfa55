/**
 * Bounded back-off, the one formula every retry loop of the daemon and the host waits by: after the n-th
 * failure in a row, `firstMs` x 2^(n-1), at most `longestMs`, jittered by ±`jitter` so that retries started
 * by one fault (an engine restart, a channel or a sink down) do not all fire in the same instant. How many
 * attempts a loop makes, or for how long, is the loop's own bound: each names it beside its call.
 */
export interface Backoff {
  firstMs: number;
  longestMs: number;
  /** Fraction of each delay added or taken away at random (0.2: ±20%). */
  jitter: number;
}

/** The wait after `failures` failures in a row (1 for the first); `random` in [0, 1). */
export function backoffDelay(backoff: Backoff, failures: number, random: () => number = Math.random): number {
  // Past 2^52 the doubling no longer matters (the cap has long been reached) and would overflow to Infinity.
  const doublings = Math.min(Math.max(failures - 1, 0), 52);
  const delay = Math.min(backoff.firstMs * 2 ** doublings, backoff.longestMs);
  return Math.round(delay * (1 + backoff.jitter * (2 * random() - 1)));
}

/** Waits `ms`; an unref'd timer, so a wait alone does not keep the process up. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
