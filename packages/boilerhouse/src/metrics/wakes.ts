/** Scheduled wakes (pool.wake): each one's outcome, by workload and trigger, from their signal. */
import { Counter, type Registry } from 'prom-client';
import type { Feed } from './metrics.ts';

export function wakeMetrics(registry: Registry): Feed {
  const wakes = new Counter({
    name: 'boilerhouse_scheduled_wakes_total',
    help: 'Scheduled wakes (trigger: schedule, from the wake file; every) by outcome: woken (the tenant claimed), running (it was claimed already), failed (the claim failed and is tried again), given_up.',
    labelNames: ['workload', 'trigger', 'outcome'],
    registers: [registry],
  });
  return {
    signal(signal) {
      if (signal.type !== 'wake.finished') return;
      wakes.inc({ workload: signal.workload, trigger: signal.trigger, outcome: signal.outcome });
    },
  };
}
