/**
 * `store/messages.db`: Node's built-in SQLite, WAL (readers never wait on the writer), migrated by
 * numbered migrations. The only place that opens it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MIGRATIONS } from './migrations/index.ts';

export type Database = DatabaseSync;

/** Opens (creating when needed) the database at `path`, or in memory for ':memory:', and migrates it. */
export function openDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db, path);
  return db;
}

function migrate(db: Database, path: string): void {
  const current = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `${path} is at schema version ${current}, newer than this NanoClaw knows (${MIGRATIONS.length}); upgrade NanoClaw`,
    );
  }
  for (const [index, sql] of MIGRATIONS.entries()) {
    const version = index + 1;
    if (version <= current) continue;
    inTransaction(db, () => {
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${version}`);
    });
  }
}

/** Runs `work` in one IMMEDIATE transaction: all of it happens, or none of it. */
export function inTransaction<T>(db: Database, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
