/** Which chats were told that a usage limit was reached, per limit and period: each is told once. */
import type { Database } from './database.ts';

export class LimitNotices {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** Whether this chat was told of this limit in this period (`period`: LimitReached.key). */
  told(chatJid: string, period: string): boolean {
    return (
      this.#db
        .prepare('SELECT 1 FROM limit_notices WHERE chat_jid = ? AND period = ?')
        .get(chatJid, period) !== undefined
    );
  }

  /** Notes that it was told (after the notice went out). */
  note(chatJid: string, period: string): void {
    this.#db
      .prepare('INSERT INTO limit_notices (chat_jid, period) VALUES (?, ?) ON CONFLICT DO NOTHING')
      .run(chatJid, period);
  }
}
