/**
 * Runs that failed: each retry of a group's messages counted per group and day, and the messages given up
 * on after the last attempt (never retried again; shown at /health and by /failed).
 */
import type { Database } from './database.ts';

export interface FailedMessages {
  id: number;
  chatJid: string;
  group: string;
  /** How many messages went unanswered. */
  messages: number;
  /** received_at of the last of them. */
  upTo: number;
  attempts: number;
  reason: string;
  failedAt: number;
}

export class RunFailures {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  countRetry(day: string, group: string): void {
    this.#db
      .prepare(
        `INSERT INTO run_retries (day, group_folder, retries) VALUES (?, ?, 1)
         ON CONFLICT (day, group_folder) DO UPDATE SET retries = retries + 1`,
      )
      .run(day, group);
  }

  /** Retries from `fromDay` (YYYY-MM-DD) on, in all groups. */
  retriesSince(fromDay: string): number {
    const row = this.#db
      .prepare('SELECT SUM(retries) AS retries FROM run_retries WHERE day >= ?')
      .get(fromDay) as {
      retries: number | null;
    };
    return row.retries ?? 0;
  }

  recordFailed(failed: Omit<FailedMessages, 'id'>): void {
    this.#db
      .prepare(
        `INSERT INTO failed_messages (chat_jid, group_folder, messages, up_to, attempts, reason, failed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        failed.chatJid,
        failed.group,
        failed.messages,
        failed.upTo,
        failed.attempts,
        failed.reason,
        failed.failedAt,
      );
  }

  /** The newest `limit` records, newest first. */
  recentFailed(limit: number): FailedMessages[] {
    return this.#db
      .prepare(
        `SELECT id, chat_jid AS chatJid, group_folder AS "group", messages, up_to AS upTo, attempts, reason,
           failed_at AS failedAt
         FROM failed_messages ORDER BY id DESC LIMIT ?`,
      )
      .all(limit) as unknown as FailedMessages[];
  }

  failedCount(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM failed_messages').get() as { n: number }).n;
  }
}
