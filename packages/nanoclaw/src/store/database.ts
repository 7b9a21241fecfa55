/**
 * `store/messages.db`: Node's built-in SQLite, WAL (readers never wait on the writer), migrated by
 * numbered migrations. The only place that opens it.
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { configureDatabase, inTransaction, migrate } from '@boilerhouse/kit/sqlite';
import { MIGRATIONS } from './migrations/index.ts';

export type Database = DatabaseSync;

export { inTransaction };

/** Opens (creating when needed) the database at `path`, or in memory for ':memory:', and migrates it. */
export function openDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  configureDatabase(db);
  migrate(db, { migrations: MIGRATIONS, database: path, program: 'NanoClaw' });
  return db;
}
