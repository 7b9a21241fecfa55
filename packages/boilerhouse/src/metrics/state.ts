/**
 * Tenant state: save and restore durations, bytes moved and failures, by workload and direction, from
 * the state events; saves that found nothing changed (no event) from their signal.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { STATE_FAILURE_CAUSES } from '../state/save-errors.ts';
import type { Feed } from './metrics.ts';

/** From a small incremental save (tens of ms) to hundreds of MiB over S3. */
const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function stateMetrics(registry: Registry): Feed {
  const durations = new Histogram({
    name: 'boilerhouse_state_duration_seconds',
    help: 'Saves (direction=save, including those that found nothing changed) and restores (direction=restore) of tenant state that succeeded.',
    labelNames: ['workload', 'direction'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'boilerhouse_state_bytes_total',
    help: 'Bytes uploaded by saves (only what the last save lacked) and written by restores.',
    labelNames: ['workload', 'direction'],
    registers: [registry],
  });
  const unchanged = new Counter({
    name: 'boilerhouse_state_unchanged_saves_total',
    help: 'Saves that found nothing changed since the last save and uploaded nothing.',
    labelNames: ['workload'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'boilerhouse_state_errors_total',
    help: 'Saves and restores of tenant state that failed, by cause: damaged (an object of a save is damaged or missing), sink_unavailable, no_space, other.',
    labelNames: ['workload', 'direction', 'cause'],
    registers: [registry],
  });
  return {
    event(event) {
      const data = event.data ?? {};
      const workload = event.workload;
      if (workload === null) return;
      const seconds = typeof data.durationMs === 'number' ? data.durationMs / 1000 : undefined;
      if (event.type === 'state.saved' || event.type === 'state.restored') {
        const direction = event.type === 'state.saved' ? 'save' : 'restore';
        if (seconds !== undefined) durations.observe({ workload, direction }, seconds);
        const moved = direction === 'save' ? data.uploadedBytes : data.bytes;
        if (typeof moved === 'number') bytes.inc({ workload, direction }, moved);
      }
      if (event.type === 'state.failed') {
        const cause = STATE_FAILURE_CAUSES.find((known) => known === data.cause) ?? 'other';
        failures.inc({ workload, direction: data.direction === 'restore' ? 'restore' : 'save', cause });
      }
    },
    signal(signal) {
      if (signal.type !== 'state.unchanged') return;
      unchanged.inc({ workload: signal.workload });
      durations.observe({ workload: signal.workload, direction: 'save' }, signal.seconds);
    },
  };
}
