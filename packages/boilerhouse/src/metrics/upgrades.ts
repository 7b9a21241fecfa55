/**
 * Tenants moved off an old version of their workload (pool/upgrades.ts): at their release, as a
 * reservation the fill loop replaced, or by `workload upgrade --now`; and moves that failed (the tenant
 * stayed where it was). How many instances are still on an old version is a pool gauge (pools.ts).
 */
import { Counter, type Registry } from 'prom-client';
import type { Feed } from './metrics.ts';

export function upgradeMetrics(registry: Registry): Feed {
  const moves = new Counter({
    name: 'boilerhouse_upgrade_moves_total',
    help: 'Tenants moved from an instance of an old workload version, saved first, by when (release, reservation, command) and outcome (moved, failed: left where it was).',
    labelNames: ['workload', 'at', 'outcome'],
    registers: [registry],
  });
  return {
    signal(signal) {
      if (signal.type !== 'upgrade.moved') return;
      moves.inc({ workload: signal.workload, at: signal.at, outcome: signal.outcome });
    },
  };
}
