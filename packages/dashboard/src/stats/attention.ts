/**
 * What an operator should look at first: workload files that are not served as written, pools with failed
 * instances, releases that could not save, instances that cannot be created, pools a new tenant cannot
 * claim from; and recent failure events. Each of the first kind is read from what is true now, so it goes
 * as soon as it is fixed; an event goes when its workload is deleted, or else after the window.
 */
import type { ActivityEvent, EventType, Pool, WorkloadProblem } from '../api/types.ts';

export interface Attention {
  key: string;
  severity: 'error' | 'warning';
  workload: string | null;
  title: string;
  detail: string;
  /** ISO time, when it is an event. */
  at?: string;
}

export const FAILURE_TYPES: readonly EventType[] = [
  'instance.unhealthy',
  'instance.failed',
  'tenant.resume_failed',
  'tenant.upgrade_failed',
  'state.failed',
  'hook.failed',
  'pool.warning',
];

/** A pool whose next claim by a new tenant is refused (503): every slot used, none ready or reserved. */
export function isExhausted(pool: Pool): boolean {
  const total = Object.values(pool.instances).reduce((sum, n) => sum + n, 0);
  return (
    !pool.removed && total >= pool.max_size && pool.instances.ready === 0 && pool.instances.reserved === 0
  );
}

export function attention(
  pools: readonly Pool[],
  problems: readonly WorkloadProblem[],
  events: readonly ActivityEvent[],
  since: number,
): Attention[] {
  const active = new Set(pools.filter((pool) => !pool.removed).map((pool) => pool.workload));
  const items: Attention[] = problems.map((problem) => ({
    key: `problem:${problem.kind}:${problem.file}`,
    severity: 'error',
    // A link only where there is a pool to go to (a new file that never loaded has none).
    workload: problem.workload !== null && active.has(problem.workload) ? problem.workload : null,
    title: problem.message,
    detail: problem.details.map((detail) => `${detail.path}: ${detail.message}`).join('; '),
    at: problem.since,
  }));
  for (const pool of pools) {
    const { workload, instances, fill } = pool;
    if (instances.release_failed > 0) {
      items.push({
        key: `${workload}:release_failed`,
        severity: 'error',
        workload,
        title: `${instances.release_failed} release(s) could not save state`,
        detail: 'The instances and their data are kept and the save is retried (phase release_failed).',
      });
    }
    if (instances.failed > 0) {
      items.push({
        key: `${workload}:failed`,
        severity: 'error',
        workload,
        title: `${instances.failed} failed instance(s)`,
        detail:
          'Their containers died before their state could be saved: the data is kept and the save is retried. See the pool for each reason.',
      });
    }
    if (fill.consecutive_failures > 0) {
      items.push({
        key: `${workload}:fill`,
        severity: 'error',
        workload,
        title: `Cannot create instances (${fill.consecutive_failures} failure(s) in a row)`,
        detail: fill.last_error ?? '',
        ...(fill.last_error_at === null ? {} : { at: fill.last_error_at }),
      });
    }
    if (isExhausted(pool)) {
      items.push({
        key: `${workload}:exhausted`,
        severity: 'warning',
        workload,
        title: `Pool exhausted: all ${pool.max_size} instance(s) in use`,
        detail: 'A new tenant’s claim is refused (503) until one is released or the pool is scaled up.',
      });
    }
  }
  const recent = events.filter(
    (event) =>
      FAILURE_TYPES.includes(event.type) &&
      Date.parse(event.at) >= since &&
      // A file's problem is shown from `problems`, for as long as it lasts and no longer.
      event.data?.file === undefined &&
      (event.workload === null || active.has(event.workload)),
  );
  for (const event of recent.slice(-8).reverse()) {
    items.push({
      key: `event:${event.id}`,
      severity: event.type === 'pool.warning' || event.type === 'instance.unhealthy' ? 'warning' : 'error',
      workload: event.workload,
      title: event.type,
      detail: event.message,
      at: event.at,
    });
  }
  return items;
}
