/**
 * The daemon's SQLite database: the truth for domain state (which instance serves which tenant, in which
 * phase). Docker stays the truth for existence. WAL, so readers never wait for the writer.
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { configureDatabase, inTransaction, migrate as migrateWith } from '@boilerhouse/kit/sqlite';
import { MIGRATIONS } from './migrations/index.ts';

export { inTransaction };

/** Distinct SQL texts kept prepared; the queries are fixed strings, so this bounds only a runaway caller. */
const MAX_CACHED_STATEMENTS = 500;

/**
 * A DatabaseSync whose prepare() hands back the statement it already made for the same SQL: the hot read
 * paths (every API request, every loop tick) stop re-compiling their queries. Statements are only ever run
 * to completion (get/all/run), never left mid-iteration, so sharing one is safe.
 */
export class Database extends DatabaseSync {
  readonly #statements = new Map<string, StatementSync>();

  override prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear();
      statement = super.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/** Opens (creating if needed) the database at `path`, or in memory for ':memory:', and migrates it. */
export function openDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  configureDatabase(db);
  migrate(db);
  return db;
}

/** Applies the daemon's migrations newer than the database's `user_version`. */
export function migrate(db: DatabaseSync): void {
  migrateWith(db, { migrations: MIGRATIONS, database: 'the database', program: 'Boilerhouse' });
}

/**
 * The first row a statement with `RETURNING` gives. Read with `.all()`: `.get()` steps once and drops the
 * rest, so a write that fails after its first row (SQLITE_FULL on a full disk) would "return" a row that
 * was never written, silently.
 */
export function returnedRow(statement: StatementSync, ...params: SQLInputValue[]): unknown {
  return statement.all(...params)[0];
}

/** SQLite's primary result code for a full disk (extended codes keep it in their low byte). */
const SQLITE_FULL = 13;

/** A write that failed because the database's disk is full (node:sqlite's `errcode`). */
export function isDatabaseFull(error: unknown): boolean {
  const { errcode } = (error ?? {}) as { errcode?: unknown };
  return typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL;
}
