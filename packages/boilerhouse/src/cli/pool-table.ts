/** Pools as a table row or a summary line: sizes, instances by phase and whether filling is failing. */
import type { PoolView } from './api-types.ts';
import { relativeTime } from './format.ts';
import { type Column, formatTable } from './table.ts';

/** Phases counted in their own column; the rest are listed, when not zero, under OTHER. */
const IN_USE = ['claiming', 'claimed'] as const;

function count(pool: PoolView, phase: string): number {
  return (pool.instances as Record<string, number>)[phase] ?? 0;
}

function others(pool: PoolView): string {
  const shown = new Set<string>(['creating', 'ready', 'reserved', ...IN_USE]);
  return Object.entries(pool.instances)
    .filter(([phase, n]) => !shown.has(phase) && n > 0)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ');
}

/** `2 (1 claimed, 1 reserved)`: instances made from an older version of the workload, by phase. */
export function oldVersions(pool: PoolView): string {
  const phases = Object.entries(pool.old_version).filter(([, n]) => n > 0);
  const total = phases.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return '';
  return `${total} (${phases.map(([phase, n]) => `${n} ${phase}`).join(', ')})`;
}

/** `ok`, or how filling is failing: `3 failures, retry in 20s: image missing`. */
export function fillState(pool: PoolView): string {
  const fill = pool.fill;
  if (fill.consecutive_failures === 0) return 'ok';
  const parts = [`${fill.consecutive_failures} failure${fill.consecutive_failures === 1 ? '' : 's'}`];
  if (fill.backoff_until !== null) parts.push(`retry ${relativeTime(fill.backoff_until)}`);
  return `${parts.join(', ')}${fill.last_error === null ? '' : `: ${fill.last_error}`}`;
}

const COLUMNS: Array<Column<PoolView>> = [
  { header: 'workload', value: (p) => (p.removed ? `${p.workload} (removed)` : p.workload) },
  { header: 'version', value: (p) => p.version },
  { header: 'min idle', value: (p) => p.min_idle },
  { header: 'max size', value: (p) => p.max_size },
  { header: 'ready', value: (p) => count(p, 'ready') },
  { header: 'creating', value: (p) => count(p, 'creating') },
  { header: 'claimed', value: (p) => IN_USE.reduce((sum, phase) => sum + count(p, phase), 0) },
  { header: 'reserved', value: (p) => count(p, 'reserved') },
  { header: 'other', value: (p) => others(p) },
  { header: 'old version', value: oldVersions },
  { header: 'fill', value: fillState },
];

export function poolTable(pools: PoolView[]): string {
  return formatTable(COLUMNS, pools, 'no pools (no workloads yet: add one with "workload apply FILE")');
}

/** One line about one pool, after scale or drain. */
export function poolLine(pool: PoolView): string {
  const phases = Object.entries(pool.instances)
    .filter(([, n]) => n > 0)
    .map(([phase, n]) => `${n} ${phase}`);
  const old = oldVersions(pool);
  return (
    `pool ${pool.workload}: min_idle ${pool.min_idle}, max_size ${pool.max_size}; ` +
    `instances: ${phases.join(', ') || 'none'}${old === '' ? '' : `, ${old} on an old version`}; fill ${fillState(pool)}\n`
  );
}
