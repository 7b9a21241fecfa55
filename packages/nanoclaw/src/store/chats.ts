/**
 * Every chat a channel has seen, registered or not (name and last activity only, never message text), so
 * that the main group can see what it may register.
 */
import type { Database } from './database.ts';

export interface Chat {
  jid: string;
  name: string;
  channel: string;
  lastMessageAt: number | null;
}

export class ChatStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** Records a chat; a later message time or a non-empty name replaces the stored one. True when new. */
  touch(chat: { jid: string; name: string; channel: string; messageAt?: number }): boolean {
    const known = this.#db.prepare('SELECT 1 FROM chats WHERE jid = ?').get(chat.jid) !== undefined;
    this.#db
      .prepare(
        `INSERT INTO chats (jid, name, channel, last_message_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (jid) DO UPDATE SET
           name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE chats.name END,
           last_message_at = MAX(COALESCE(chats.last_message_at, 0), COALESCE(excluded.last_message_at, 0))`,
      )
      .run(chat.jid, chat.name, chat.channel, chat.messageAt ?? null);
    return !known;
  }

  list(): Chat[] {
    const rows = this.#db
      .prepare('SELECT jid, name, channel, last_message_at FROM chats ORDER BY last_message_at DESC')
      .all() as Array<{ jid: string; name: string; channel: string; last_message_at: number | null }>;
    return rows.map((row) => ({
      jid: row.jid,
      name: row.name,
      channel: row.channel,
      lastMessageAt: row.last_message_at === 0 ? null : row.last_message_at,
    }));
  }
}
