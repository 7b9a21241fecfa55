/** Instance phases as badges, and a pool's instances as one bar against min_idle and max_size. */
import type { Phase, Pool } from '../api/types.ts';

/** Bar order: what serves tenants first, then what is waiting, then what is going away. */
const BAR_PHASES: readonly Phase[] = [
  'claimed',
  'claiming',
  'releasing',
  'release_failed',
  'reserved',
  'ready',
  'creating',
  'destroying',
  'failed',
];

export function PhaseBadge(props: { phase: Phase }) {
  return <span className={`badge phase-${props.phase}`}>{props.phase.replace('_', ' ')}</span>;
}

export function PoolBar(props: { pool: Pool }) {
  const { pool } = props;
  const total = Object.values(pool.instances).reduce((sum, n) => sum + n, 0);
  const width = Math.max(pool.max_size, total, 1);
  const label = BAR_PHASES.filter((phase) => pool.instances[phase] > 0)
    .map((phase) => `${pool.instances[phase]} ${phase}`)
    .join(', ');
  return (
    <div
      className="pool-bar"
      role="img"
      aria-label={`${label || 'no instances'}; min idle ${pool.min_idle}, max ${pool.max_size}`}
    >
      {BAR_PHASES.map((phase) =>
        pool.instances[phase] > 0 ? (
          <span
            key={phase}
            className={`segment phase-${phase}`}
            style={{ width: `${(pool.instances[phase] / width) * 100}%` }}
            title={`${pool.instances[phase]} ${phase}`}
          />
        ) : null,
      )}
      {pool.min_idle > 0 ? (
        <span
          className="marker"
          style={{ left: `${(Math.min(pool.min_idle, width) / width) * 100}%` }}
          title={`min_idle ${pool.min_idle}`}
        />
      ) : null}
    </div>
  );
}

/** The counts the overview shows for each pool. */
export function PoolCounts(props: { pool: Pool }) {
  const { instances, min_idle, max_size } = props.pool;
  const busy = instances.claiming + instances.releasing;
  const cells: [string, number, string][] = [
    ['ready', instances.ready, `min ${min_idle}`],
    ['claimed', instances.claimed + busy, busy > 0 ? `${busy} moving` : ''],
    ['reserved', instances.reserved, ''],
    [
      'failed',
      instances.failed + instances.release_failed,
      instances.release_failed > 0 ? `${instances.release_failed} unsaved` : '',
    ],
    ['total', Object.values(instances).reduce((sum, n) => sum + n, 0), `max ${max_size}`],
  ];
  return (
    <dl className="counts">
      {cells.map(([name, value, note]) => (
        <div key={name} className={`count count-${name}${name === 'failed' && value > 0 ? ' bad' : ''}`}>
          <dt>{name}</dt>
          <dd data-count={name}>{value}</dd>
          {note ? <dd className="note">{note}</dd> : null}
        </div>
      ))}
    </dl>
  );
}
