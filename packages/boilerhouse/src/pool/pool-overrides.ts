/**
 * Pool sizes an operator set through the API (scale, drain), kept in the database so they outlive a
 * restart. They take precedence over the workload file's `pool.min_idle` / `pool.max_size` without
 * changing the workload's version (idle instances are not replaced for a resize).
 */
import type { Database } from '../db/database.ts';

export interface PoolSize {
  minIdle?: number;
  maxSize?: number;
}

interface Row {
  workload: string;
  min_idle: number | null;
  max_size: number | null;
}

export class PoolOverrides {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  get(workload: string): PoolSize {
    const row = this.#db.prepare('SELECT * FROM pool_overrides WHERE workload = ?').get(workload) as
      | Row
      | undefined;
    return {
      ...(row?.min_idle == null ? {} : { minIdle: row.min_idle }),
      ...(row?.max_size == null ? {} : { maxSize: row.max_size }),
    };
  }

  save(workload: string, size: PoolSize, now: number): void {
    if (size.minIdle === undefined && size.maxSize === undefined) {
      this.clear(workload);
      return;
    }
    this.#db
      .prepare(
        `INSERT INTO pool_overrides (workload, min_idle, max_size, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workload) DO UPDATE SET min_idle = excluded.min_idle, max_size = excluded.max_size,
           updated_at = excluded.updated_at`,
      )
      .run(workload, size.minIdle ?? null, size.maxSize ?? null, now);
  }

  clear(workload: string): void {
    this.#db.prepare('DELETE FROM pool_overrides WHERE workload = ?').run(workload);
  }
}

/** `current` with each given size set; `null` drops it (back to the file's value). */
export function withChanges(
  current: PoolSize,
  changes: { minIdle?: number | null; maxSize?: number | null },
): PoolSize {
  const next = { ...current };
  for (const name of ['minIdle', 'maxSize'] as const) {
    const value = changes[name];
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  return next;
}
