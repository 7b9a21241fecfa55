/** Reads a SQLite file the way a restore is judged: integrity first, then what it holds. */
import { DatabaseSync } from 'node:sqlite';

export function readDatabase<T>(
  path: string,
  read: (db: DatabaseSync) => T,
): { integrity: string; value: T } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    return { integrity: rows.map((row) => row.integrity_check).join('; '), value: read(db) };
  } finally {
    db.close();
  }
}
