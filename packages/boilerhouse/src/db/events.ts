/** The activity log: typed events with the tenant, workload and instance they concern. */
import { type Database, returnedRow } from './database.ts';

/** Every event type: the EventType union and the API's schema of an event are both made from this list. */
export const EVENT_TYPES = [
  'instance.created',
  'instance.ready',
  // A tenant was handed an instance; `data.path` says how, as the claim's answer does: hit, warm or cold.
  'instance.claimed',
  'instance.released',
  'instance.reserved',
  // A reserved instance that wrote to its state claimed itself back for its tenant: no tenant's claim.
  'instance.reclaimed',
  'instance.destroyed',
  'instance.unhealthy',
  'instance.failed',
  'tenant.resumed',
  'tenant.resume_failed',
  'tenant.upgraded',
  'tenant.upgrade_failed',
  'tenant.woken',
  'tenant.wake_failed',
  'tenant.wake_refused',
  'hook.succeeded',
  'hook.failed',
  'state.restored',
  'state.saved',
  'state.failed',
  'pool.created',
  'pool.updated',
  'pool.removed',
  // For an operator to know; a workload file's problem says which in `data.file` and `data.problem`.
  'pool.warning',
  // A workload file's problem is gone: fixed, or its file deleted.
  'pool.fixed',
  'daemon.started',
  'daemon.recovered',
  'daemon.stopped',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface ActivityEvent {
  id: number;
  at: number;
  type: EventType;
  workload: string | null;
  tenant: string | null;
  instance: string | null;
  message: string;
  data: Record<string, unknown> | null;
}

export type NewEvent = Omit<ActivityEvent, 'id' | 'workload' | 'tenant' | 'instance' | 'data'> & {
  workload?: string | null;
  tenant?: string | null;
  instance?: string | null;
  data?: Record<string, unknown>;
};

/** As stored: `data` is JSON text. */
type Row = Omit<ActivityEvent, 'data'> & { data: string | null };

export function insertEvent(db: Database, event: NewEvent): ActivityEvent {
  const row = returnedRow(
    db.prepare(
      `INSERT INTO events (at, type, workload, tenant, instance, message, data)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    event.at,
    event.type,
    event.workload ?? null,
    event.tenant ?? null,
    event.instance ?? null,
    event.message,
    event.data === undefined ? null : JSON.stringify(event.data),
  ) as unknown as Row;
  return fromRow(row);
}

/** The newest `limit` events, newest first. */
export function listEvents(db: Database, limit: number): ActivityEvent[] {
  const rows = db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit) as unknown as Row[];
  return rows.map(fromRow);
}

/**
 * The newest `limit` events of these tenants and workloads (null: any, even none), newest first: what a
 * token limited to them may see.
 */
export function listEventsWithin(
  db: Database,
  limit: number,
  within: { tenants: readonly string[] | null; workloads: readonly string[] | null },
): ActivityEvent[] {
  const tenants = within.tenants === null ? null : JSON.stringify(within.tenants);
  const workloads = within.workloads === null ? null : JSON.stringify(within.workloads);
  const rows = db
    .prepare(
      `SELECT * FROM events
       WHERE (? IS NULL OR tenant IN (SELECT value FROM json_each(?)))
         AND (? IS NULL OR workload IN (SELECT value FROM json_each(?)))
       ORDER BY id DESC LIMIT ?`,
    )
    .all(tenants, tenants, workloads, workloads, limit) as unknown as Row[];
  return rows.map(fromRow);
}

/** Up to `limit` events after `id`, oldest first. */
export function listEventsAfter(db: Database, id: number, limit: number): ActivityEvent[] {
  const rows = db
    .prepare('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?')
    .all(id, limit) as unknown as Row[];
  return rows.map(fromRow);
}

/** The newest event's id (0 when there is none). */
export function lastEventId(db: Database): number {
  return (db.prepare('SELECT coalesce(max(id), 0) AS id FROM events').get() as { id: number }).id;
}

/** Keeps the newest `keep` events. */
export function pruneEvents(db: Database, keep: number): void {
  db.prepare('DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?').run(keep);
}

function fromRow(row: Row): ActivityEvent {
  return { ...row, data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>) };
}
