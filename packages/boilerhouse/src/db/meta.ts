/** Small facts about this daemon kept in its database. */
import { randomBytes } from 'node:crypto';
import type { Database } from './database.ts';

/**
 * This daemon's identity, stamped on every container it creates so that it only ever reconciles its own,
 * even when other daemons (or parallel tests) share the engine. Made once, kept in the data directory.
 */
export function daemonId(db: Database): string {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'daemon_id'").get() as
    | { value: string }
    | undefined;
  if (row !== undefined) return row.value;
  const id = randomBytes(6).toString('hex');
  db.prepare("INSERT INTO meta (key, value) VALUES ('daemon_id', ?)").run(id);
  return id;
}
