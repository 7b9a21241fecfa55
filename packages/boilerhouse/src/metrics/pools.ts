/**
 * Pool gauges, read at scrape time from `boilerhouse.pools()` (the DB is the truth; nothing is kept here):
 * instances per phase, those on an old version, min_idle, max_size and fill failures in a row, per workload.
 */
import { Gauge, type Registry } from 'prom-client';
import type { PoolStatus } from '../admin/pools.ts';

/** `scrape()` numbers the scrape under way: the pools are read once per scrape, so the gauges agree. */
export function poolGauges(registry: Registry, pools: () => PoolStatus[], scrape: () => number): void {
  let read: { scrape: number; pools: PoolStatus[] } | undefined;
  const current = () => {
    const now = scrape();
    if (read?.scrape !== now) read = { scrape: now, pools: pools() };
    return read.pools;
  };
  const perPool = (name: string, help: string, value: (pool: PoolStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['workload'],
      registers: [registry],
      collect() {
        this.reset();
        for (const pool of current()) this.set({ workload: pool.workload }, value(pool));
      },
    });

  new Gauge({
    name: 'boilerhouse_pool_instances',
    help: 'Instances per workload and phase (ready = idle and claimable).',
    labelNames: ['workload', 'phase'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of current()) {
        for (const [phase, count] of Object.entries(pool.instances)) {
          this.set({ workload: pool.workload, phase }, count);
        }
      }
    },
  });
  perPool(
    'boilerhouse_pool_size',
    'Instances per workload in every phase: what counts against max_size.',
    (pool) => Object.values(pool.instances).reduce((sum, n) => sum + n, 0),
  );
  perPool('boilerhouse_pool_min_idle', 'pool.min_idle of the workload.', (pool) => pool.minIdle);
  perPool('boilerhouse_pool_max_size', 'pool.max_size of the workload.', (pool) => pool.maxSize);
  perPool(
    'boilerhouse_pool_old_version_instances',
    'Instances per workload made from an older version of its file, in every phase: tenants on them move at their next release.',
    (pool) => Object.values(pool.oldVersion).reduce((sum, n) => sum + n, 0),
  );
  perPool(
    'boilerhouse_pool_fill_failures',
    'Instance creations that failed in a row for the workload (0 when the last one worked).',
    (pool) => pool.fill.consecutiveFailures,
  );
}
