/**
 * Claims and releases: how long they take by claim path (hit, warm, cold: the claim answer's `path`) and
 * release outcome, and claims that failed by error code. Claim times come from the claim events (their
 * `timingsMs.total`) and, for a claim of an instance the tenant already holds (a hit that changes nothing,
 * so records no event), from its signal; the rest from signals.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Feed } from './metrics.ts';

/** From a hit (< 1 ms) through a warm claim (~70 ms) to a cold one and a slow health check. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function claimMetrics(registry: Registry): Feed {
  const claims = new Histogram({
    name: 'boilerhouse_claim_duration_seconds',
    help: "Claims answered with an instance, by path: hit (the tenant's own instance, reserved or still held), warm (a ready one), cold (a new one).",
    labelNames: ['workload', 'path'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'boilerhouse_claim_errors_total',
    help: 'Claims that failed, by error code (pool_exhausted, instance_failed, ...).',
    labelNames: ['workload', 'code'],
    registers: [registry],
  });
  const releases = new Histogram({
    name: 'boilerhouse_release_duration_seconds',
    help: 'Releases, by outcome (reserved, destroyed, failed) and how a reserved instance waits (run, pause).',
    labelNames: ['workload', 'outcome', 'reserve'],
    buckets: BUCKETS,
    registers: [registry],
  });
  return {
    event(event) {
      if (event.type !== 'instance.claimed') return;
      const path = event.data?.path;
      const total = (event.data?.timingsMs as { total?: unknown } | undefined)?.total;
      if (typeof path !== 'string' || typeof total !== 'number' || event.workload === null) return;
      claims.observe({ workload: event.workload, path }, total / 1000);
    },
    signal(signal) {
      if (signal.type === 'claim.failed') errors.inc({ workload: signal.workload, code: signal.code });
      if (signal.type === 'claim.repeated') {
        claims.observe({ workload: signal.workload, path: 'hit' }, signal.seconds);
      }
      if (signal.type === 'release.finished') {
        const { workload, outcome, reserve, seconds } = signal;
        releases.observe({ workload, outcome, reserve }, seconds);
      }
    },
  };
}
