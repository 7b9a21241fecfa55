/**
 * What each of our SQLite databases (the daemon's, each NanoClaw host's `messages.db`) does when opened and
 * written: the same pragmas, numbered migrations tracked in `user_version`, IMMEDIATE transactions. Runs
 * statements only on the database it is handed.
 */
import type { DatabaseSync } from 'node:sqlite';

/** WAL, so readers never wait for the writer; a busy writer is waited on up to 5 s; foreign keys kept. */
export function configureDatabase(db: DatabaseSync): void {
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA foreign_keys = ON');
}

export interface MigrationSet {
  /** The SQL of migration 1, 2, ...: the database's `user_version` is how many have been applied. */
  migrations: readonly string[];
  /** The database in an error: `the database`, or its path. */
  database: string;
  /** The program that knows these migrations, in an error: `Boilerhouse`, `NanoClaw`. */
  program: string;
}

/**
 * Applies the migrations newer than the database's `user_version`, each in its own transaction. A
 * database from a newer program (more migrations than these) is refused, not touched.
 */
export function migrate(db: DatabaseSync, { migrations, database, program }: MigrationSet): void {
  const current = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (current > migrations.length) {
    throw new Error(
      `${database} is at schema version ${current}, newer than this ${program} knows (${migrations.length}); upgrade ${program}`,
    );
  }
  for (const [index, sql] of migrations.entries()) {
    const version = index + 1;
    if (version <= current) continue;
    inTransaction(db, () => {
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${version}`);
    });
  }
}

/** Runs `work` in one IMMEDIATE transaction: all of it happens, or none of it. */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    // A COMMIT that failed on a full disk was rolled back by SQLite already: a ROLLBACK now would throw
    // "no transaction is active" and hide the real error.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
