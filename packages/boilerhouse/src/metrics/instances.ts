/**
 * Watching claimed instances: failed health tests and instances found unhealthy (after `retries` failures
 * in a row), idle releases (pool.file_idle_ttl reached) and resets (writes pushed the deadline out).
 */
import { Counter, type Registry } from 'prom-client';
import type { Feed } from './metrics.ts';

export function instanceMetrics(registry: Registry): Feed {
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ['workload'], registers: [registry] });
  const healthFailures = counter(
    'boilerhouse_health_check_failures_total',
    'Health tests of running instances that failed.',
  );
  const unhealthy = counter(
    'boilerhouse_instances_unhealthy_total',
    'Instances reported unhealthy: healthcheck.retries failed tests in a row.',
  );
  const idleExpired = counter(
    'boilerhouse_idle_expirations_total',
    'Claimed instances released because their state saw no writes for pool.file_idle_ttl.',
  );
  const idleResets = counter(
    'boilerhouse_idle_resets_total',
    'Idle checks (one a second per claimed instance) that found writes had pushed the idle deadline out.',
  );
  return {
    event(event) {
      if (event.type === 'instance.unhealthy' && event.workload !== null) {
        unhealthy.inc({ workload: event.workload });
      }
    },
    signal(signal) {
      if (signal.type === 'health.failed') healthFailures.inc({ workload: signal.workload });
      if (signal.type === 'idle.expired') idleExpired.inc({ workload: signal.workload });
      if (signal.type === 'idle.reset') idleResets.inc({ workload: signal.workload });
    },
  };
}
