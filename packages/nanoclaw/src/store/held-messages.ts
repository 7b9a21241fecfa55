/**
 * Messages from senders a group does not know, held until the main chat approves (`/approve <id>`) or
 * denies (`/deny <id>`) them. Held messages are not in the messages table, so no agent ever reads them.
 */

import type { Database } from './database.ts';
import type { InboundMessage } from './messages.ts';

export interface HeldMessage extends InboundMessage {
  /** The number main uses in /approve and /deny. */
  heldId: number;
  heldAt: number;
}

interface Row {
  id: number;
  chat_jid: string;
  message_id: string;
  sender: string;
  sender_name: string;
  text: string;
  timestamp: number;
  held_at: number;
}

const toHeld = (row: Row): HeldMessage => ({
  heldId: row.id,
  id: row.message_id,
  chatJid: row.chat_jid,
  sender: row.sender,
  senderName: row.sender_name,
  text: row.text,
  timestamp: row.timestamp,
  heldAt: row.held_at,
});

export class HeldMessages {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** Holds a message; undefined when it is held already (a channel delivering it twice). */
  hold(message: InboundMessage, now: number): HeldMessage | undefined {
    const rows = this.#db
      .prepare(
        `INSERT INTO held_messages (chat_jid, message_id, sender, sender_name, text, timestamp, held_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_jid, message_id) DO NOTHING RETURNING *`,
      )
      .all(
        message.chatJid,
        message.id,
        message.sender,
        message.senderName,
        message.text,
        message.timestamp,
        now,
      ) as unknown as Row[];
    return rows[0] === undefined ? undefined : toHeld(rows[0]);
  }

  get(heldId: number): HeldMessage | undefined {
    const row = this.#db.prepare('SELECT * FROM held_messages WHERE id = ?').get(heldId) as Row | undefined;
    return row === undefined ? undefined : toHeld(row);
  }

  /** Every held message of one sender in one chat, oldest first. */
  ofSender(chatJid: string, sender: string): HeldMessage[] {
    const rows = this.#db
      .prepare('SELECT * FROM held_messages WHERE chat_jid = ? AND sender = ? ORDER BY id')
      .all(chatJid, sender) as unknown as Row[];
    return rows.map(toHeld);
  }

  list(): HeldMessage[] {
    return (this.#db.prepare('SELECT * FROM held_messages ORDER BY id').all() as unknown as Row[]).map(
      toHeld,
    );
  }

  remove(heldIds: number[]): void {
    const remove = this.#db.prepare('DELETE FROM held_messages WHERE id = ?');
    for (const id of heldIds) remove.run(id);
  }
}
