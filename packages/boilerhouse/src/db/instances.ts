/**
 * Instance rows. Every phase change is one conditional UPDATE (`... WHERE phase IN (...)`): when it
 * changes no row, another actor got there first and the caller moves on.
 */
import { type Database, returnedRow } from './database.ts';

/** Every phase, in lifecycle order. */
export const PHASES = [
  'creating',
  'ready',
  'claiming',
  'claimed',
  'releasing',
  'release_failed',
  'reserved',
  'destroying',
  'failed',
] as const;

export type Phase = (typeof PHASES)[number];

/** Phases in which an instance belongs to a tenant (`failed`: its container died, its data is not yet saved). */
export const TENANT_PHASES: readonly Phase[] = [
  'claiming',
  'claimed',
  'releasing',
  'release_failed',
  'reserved',
  'failed',
];
const IN_TENANT_PHASES = `phase IN (${TENANT_PHASES.map((phase) => `'${phase}'`).join(', ')})`;

export interface PortMapping {
  port: number;
  hostPort: number;
  /** The host address the engine bound it to (absent on instances made before it was kept). */
  hostIp?: string;
}

export interface Instance {
  id: string;
  workload: string;
  specHash: string;
  phase: Phase;
  tenant: string | null;
  containerId: string | null;
  address: string | null;
  ports: PortMapping[];
  reason: string | null;
  createdAt: number;
  phaseChangedAt: number;
  claimedAt: number | null;
  reservedUntil: number | null;
}

interface Row {
  id: string;
  workload: string;
  spec_hash: string;
  phase: Phase;
  tenant: string | null;
  container_id: string | null;
  address: string | null;
  ports: string;
  reason: string | null;
  created_at: number;
  phase_changed_at: number;
  claimed_at: number | null;
  reserved_until: number | null;
}

function fromRow(row: Row): Instance {
  return {
    id: row.id,
    workload: row.workload,
    specHash: row.spec_hash,
    phase: row.phase,
    tenant: row.tenant,
    containerId: row.container_id,
    address: row.address,
    ports: JSON.parse(row.ports) as PortMapping[],
    reason: row.reason,
    createdAt: row.created_at,
    phaseChangedAt: row.phase_changed_at,
    claimedAt: row.claimed_at,
    reservedUntil: row.reserved_until,
  };
}

/** Fields a transition may set along with the phase. */
export interface TransitionChanges {
  tenant?: string | null;
  containerId?: string | null;
  address?: string | null;
  ports?: PortMapping[];
  reason?: string | null;
  claimedAt?: number | null;
  reservedUntil?: number | null;
}

const COLUMNS: Record<keyof TransitionChanges, string> = {
  tenant: 'tenant',
  containerId: 'container_id',
  address: 'address',
  ports: 'ports',
  reason: 'reason',
  claimedAt: 'claimed_at',
  reservedUntil: 'reserved_until',
};

type SqlValue = string | number | null;

export function insertInstance(
  db: Database,
  fields: {
    id: string;
    workload: string;
    specHash: string;
    phase: Phase;
    tenant?: string;
    claimedAt?: number;
    now: number;
  },
): Instance {
  const row = returnedRow(
    db.prepare(
      `INSERT INTO instances (id, workload, spec_hash, phase, tenant, claimed_at, created_at, phase_changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    fields.id,
    fields.workload,
    fields.specHash,
    fields.phase,
    fields.tenant ?? null,
    fields.claimedAt ?? null,
    fields.now,
    fields.now,
  );
  return fromRow(row as unknown as Row);
}

export function getInstance(db: Database, id: string): Instance | undefined {
  const row = db.prepare('SELECT * FROM instances WHERE id = ?').get(id);
  return row === undefined ? undefined : fromRow(row as unknown as Row);
}

/**
 * Moves an instance from one of `from` to `to`, setting `changes` too. Returns the updated instance, or
 * undefined when it was not in one of `from` (someone else moved it first).
 */
export function transition(
  db: Database,
  id: string,
  from: Phase | readonly Phase[],
  to: Phase,
  now: number,
  changes: TransitionChanges = {},
): Instance | undefined {
  return update(db, id, from, { phase: to, phase_changed_at: now, ...columnsOf(changes) });
}

/** Sets fields without changing the phase, only while the instance is in `phase`. */
export function updateInPhase(db: Database, id: string, phase: Phase, changes: TransitionChanges): boolean {
  return update(db, id, phase, columnsOf(changes)) !== undefined;
}

function columnsOf(changes: TransitionChanges): Record<string, SqlValue> {
  const columns: Record<string, SqlValue> = {};
  for (const [key, value] of Object.entries(changes) as [keyof TransitionChanges, unknown][]) {
    if (value === undefined) continue;
    columns[COLUMNS[key]] = key === 'ports' ? JSON.stringify(value) : (value as SqlValue);
  }
  return columns;
}

/** One conditional UPDATE: the row changes only while its phase is one of `from`. */
function update(
  db: Database,
  id: string,
  from: Phase | readonly Phase[],
  columns: Record<string, SqlValue>,
): Instance | undefined {
  const names = Object.keys(columns);
  if (names.length === 0) return getInstance(db, id);
  const phases = typeof from === 'string' ? [from] : from;
  const row = returnedRow(
    db.prepare(
      `UPDATE instances SET ${names.map((name) => `${name} = ?`).join(', ')}
       WHERE id = ? AND phase IN (${phases.map(() => '?').join(', ')}) RETURNING *`,
    ),
    ...Object.values(columns),
    id,
    ...phases,
  );
  return row === undefined ? undefined : fromRow(row as unknown as Row);
}

/** The instance serving (or reserved for) this tenant, if any. */
export function findTenantInstance(db: Database, workload: string, tenant: string): Instance | undefined {
  const row = db
    .prepare(
      `SELECT * FROM instances WHERE workload = ? AND tenant = ?
       AND ${IN_TENANT_PHASES}`,
    )
    .get(workload, tenant);
  return row === undefined ? undefined : fromRow(row as unknown as Row);
}

/** All instances of a tenant, across workloads. */
export function listTenantInstances(db: Database, tenant: string): Instance[] {
  const rows = db
    .prepare(
      `SELECT * FROM instances WHERE tenant = ? AND ${IN_TENANT_PHASES}
       ORDER BY workload`,
    )
    .all(tenant);
  return (rows as unknown as Row[]).map(fromRow);
}

/**
 * Hands the oldest ready instance of the current spec to `tenant` (ready -> claiming) in one statement.
 * Undefined when none is ready.
 */
export function takeReadyInstance(
  db: Database,
  workload: string,
  specHash: string,
  tenant: string,
  now: number,
): Instance | undefined {
  const row = returnedRow(
    db.prepare(
      `UPDATE instances SET phase = 'claiming', tenant = ?, phase_changed_at = ?, claimed_at = ?
       WHERE id = (SELECT id FROM instances WHERE workload = ? AND spec_hash = ? AND phase = 'ready'
                   ORDER BY created_at LIMIT 1)
         AND phase = 'ready'
       RETURNING *`,
    ),
    tenant,
    now,
    now,
    workload,
    specHash,
  );
  return row === undefined ? undefined : fromRow(row as unknown as Row);
}

/** The oldest reservation of the workload not held for `exceptTenant`. */
export function oldestReservation(
  db: Database,
  workload: string,
  exceptTenant: string,
): Instance | undefined {
  const row = db
    .prepare(
      `SELECT * FROM instances WHERE workload = ? AND phase = 'reserved' AND tenant != ?
       ORDER BY phase_changed_at LIMIT 1`,
    )
    .get(workload, exceptTenant);
  return row === undefined ? undefined : fromRow(row as unknown as Row);
}

export function expiredReservations(db: Database, now: number): Instance[] {
  const rows = db
    .prepare(
      `SELECT * FROM instances WHERE phase = 'reserved' AND reserved_until <= ? ORDER BY reserved_until`,
    )
    .all(now);
  return (rows as unknown as Row[]).map(fromRow);
}

/** Number of instances per phase for a workload (phases with none are 0). */
export function countByPhase(db: Database, workload: string, specHash?: string): Record<Phase, number> {
  const counts = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
  const rows = (specHash === undefined
    ? db.prepare('SELECT phase, count(*) AS n FROM instances WHERE workload = ? GROUP BY phase').all(workload)
    : db
        .prepare(
          'SELECT phase, count(*) AS n FROM instances WHERE workload = ? AND spec_hash = ? GROUP BY phase',
        )
        .all(workload, specHash)) as unknown as { phase: Phase; n: number }[];
  for (const row of rows) counts[row.phase] = row.n;
  return counts;
}

export function listInstances(db: Database, filter: { workload?: string; phase?: Phase } = {}): Instance[] {
  const where: string[] = [];
  const values: string[] = [];
  if (filter.workload !== undefined) {
    where.push('workload = ?');
    values.push(filter.workload);
  }
  if (filter.phase !== undefined) {
    where.push('phase = ?');
    values.push(filter.phase);
  }
  const sql = `SELECT * FROM instances ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at`;
  return (db.prepare(sql).all(...values) as unknown as Row[]).map(fromRow);
}

export function deleteInstance(db: Database, id: string): void {
  db.prepare('DELETE FROM instances WHERE id = ?').run(id);
}
