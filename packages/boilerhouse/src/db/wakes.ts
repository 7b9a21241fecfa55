/**
 * Wakes: when Boilerhouse next claims a released tenant by itself (pool/wakes.ts). One row per workload,
 * tenant and trigger; `dueAt` null means none is pending (the row only remembers the last one that ran).
 */
import type { Database } from './database.ts';

export const WAKE_TRIGGERS = ['schedule', 'every'] as const;
/** schedule: the time in the workload's `pool.wake.at_file`; every: `pool.wake.every` after the last save. */
export type WakeTrigger = (typeof WAKE_TRIGGERS)[number];

export interface Wake {
  workload: string;
  tenant: string;
  trigger: WakeTrigger;
  dueAt: number;
  /** When it was set (the save that read it). */
  setAt: number;
}

interface Row {
  workload: string;
  tenant: string;
  trigger: WakeTrigger;
  due_at: number;
  set_at: number;
}

/** Sets the pending wake of this trigger (replacing any). */
export function setWake(db: Database, wake: Wake): void {
  db.prepare(
    `INSERT INTO wakes (workload, tenant, trigger, due_at, set_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (workload, tenant, trigger) DO UPDATE SET due_at = excluded.due_at, set_at = excluded.set_at`,
  ).run(wake.workload, wake.tenant, wake.trigger, wake.dueAt, wake.setAt);
}

/** No pending wake of this trigger any more (the last one that ran is still remembered). */
export function clearWake(db: Database, workload: string, tenant: string, trigger: WakeTrigger): void {
  db.prepare('UPDATE wakes SET due_at = NULL WHERE workload = ? AND tenant = ? AND trigger = ?').run(
    workload,
    tenant,
    trigger,
  );
}

/**
 * The wake due at `wake.dueAt` has run (or was given up on): `next` is the following one (null: none).
 * Only if it is still the pending one: a save that set another meanwhile keeps its own. True when it was.
 */
export function finishWake(db: Database, wake: Wake, next: number | null, now: number): boolean {
  const changes = db
    .prepare(
      `UPDATE wakes SET due_at = ?, set_at = ?, last_due_at = due_at
       WHERE workload = ? AND tenant = ? AND trigger = ? AND due_at = ?`,
    )
    .run(next, now, wake.workload, wake.tenant, wake.trigger, wake.dueAt).changes;
  return changes > 0;
}

/** The due time of the last wake of this trigger that ran, if any. */
export function lastDueAt(
  db: Database,
  workload: string,
  tenant: string,
  trigger: WakeTrigger,
): number | undefined {
  const row = db
    .prepare('SELECT last_due_at FROM wakes WHERE workload = ? AND tenant = ? AND trigger = ?')
    .get(workload, tenant, trigger) as { last_due_at: number | null } | undefined;
  return row?.last_due_at ?? undefined;
}

/** Pending wakes due by `now`, the most overdue first. */
export function dueWakes(db: Database, now: number): Wake[] {
  const rows = db
    .prepare('SELECT * FROM wakes WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at')
    .all(now) as unknown as Row[];
  return rows.map(fromRow);
}

/** Pending wakes, soonest first; of one tenant when given. */
export function listWakes(db: Database, filter: { tenant?: string } = {}): Wake[] {
  const rows = db
    .prepare(
      `SELECT * FROM wakes WHERE due_at IS NOT NULL AND (? IS NULL OR tenant = ?)
       ORDER BY due_at, workload, tenant, trigger`,
    )
    .all(filter.tenant ?? null, filter.tenant ?? null) as unknown as Row[];
  return rows.map(fromRow);
}

/** Forgets a workload's wakes of a trigger it no longer has (or all, for a workload that is gone). */
export function removeWakes(db: Database, workload: string, trigger?: WakeTrigger): void {
  db.prepare('DELETE FROM wakes WHERE workload = ? AND (? IS NULL OR trigger = ?)').run(
    workload,
    trigger ?? null,
    trigger ?? null,
  );
}

function fromRow(row: Row): Wake {
  return {
    workload: row.workload,
    tenant: row.tenant,
    trigger: row.trigger,
    dueAt: row.due_at,
    setAt: row.set_at,
  };
}
