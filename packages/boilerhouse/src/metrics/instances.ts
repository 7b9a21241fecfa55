/**
 * Watching claimed instances: failed health tests and instances found unhealthy (after `retries` failures
 * in a row), idle releases (pool.file_idle_ttl reached) and resets (writes pushed the deadline out),
 * containers found dead (by the phase their instance was in) and tenants claimed again after one.
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
  const deaths = new Counter({
    name: 'boilerhouse_instance_deaths_total',
    help: 'Instances whose container was found dead (killed, crashed, stopped with the engine), by the phase they were in.',
    labelNames: ['workload', 'phase'],
    registers: [registry],
  });
  const resumes = new Counter({
    name: 'boilerhouse_tenant_resumes_total',
    help: 'Tenants claimed again by themselves after their container died (resumed), or given up on (gave_up).',
    labelNames: ['workload', 'outcome'],
    registers: [registry],
  });
  const saveRetries = new Counter({
    name: 'boilerhouse_save_retries_total',
    help: 'Saves tried again after failing, by what they save: a release (release_failed) or a dead container (failed).',
    labelNames: ['workload', 'of'],
    registers: [registry],
  });
  return {
    event(event) {
      if (event.workload === null) return;
      const workload = event.workload;
      if (event.type === 'instance.unhealthy') unhealthy.inc({ workload });
      // Deaths only: a creation that failed is an instance.failed without the phase it died in.
      const phase = event.data?.phase;
      if (event.type === 'instance.failed' && typeof phase === 'string') deaths.inc({ workload, phase });
      if (event.type === 'tenant.resumed') resumes.inc({ workload, outcome: 'resumed' });
      if (event.type === 'tenant.resume_failed') resumes.inc({ workload, outcome: 'gave_up' });
    },
    signal(signal) {
      if (signal.type === 'health.failed') healthFailures.inc({ workload: signal.workload });
      if (signal.type === 'save.retried') saveRetries.inc({ workload: signal.workload, of: signal.of });
      if (signal.type === 'idle.expired') idleExpired.inc({ workload: signal.workload });
      if (signal.type === 'idle.reset') idleResets.inc({ workload: signal.workload });
    },
  };
}
