/**
 * Messages of registered chats, inbound and the assistant's replies, in `store/messages.db`. Each row gets
 * `received_at`, this host's strictly increasing clock, which router cursors are compared against (channel
 * timestamps can tie or arrive out of order).
 */
import { randomUUID } from 'node:crypto';
import type { Attachment } from '../files/attachment.ts';
import type { Database } from './database.ts';

export interface StoredMessage {
  seq: number;
  id: string;
  chatJid: string;
  sender: string;
  senderName: string;
  text: string;
  /** The channel's time, ms. */
  timestamp: number;
  /** This host's time of storing, ms, strictly increasing. */
  receivedAt: number;
  fromAssistant: boolean;
  answersUpTo: number | null;
  /** Files it carries, kept in its group's folder. */
  attachments: Attachment[];
}

export interface InboundMessage {
  id: string;
  chatJid: string;
  sender: string;
  senderName: string;
  text: string;
  timestamp: number;
  attachments?: Attachment[];
}

interface Row {
  seq: number;
  id: string;
  chat_jid: string;
  sender: string;
  sender_name: string;
  text: string;
  timestamp: number;
  received_at: number;
  from_assistant: number;
  answers_up_to: number | null;
  attachments: string | null;
}

const toMessage = (row: Row): StoredMessage => ({
  seq: row.seq,
  id: row.id,
  chatJid: row.chat_jid,
  sender: row.sender,
  senderName: row.sender_name,
  text: row.text,
  timestamp: row.timestamp,
  receivedAt: row.received_at,
  fromAssistant: row.from_assistant === 1,
  answersUpTo: row.answers_up_to,
  attachments: row.attachments === null ? [] : (JSON.parse(row.attachments) as Attachment[]),
});

export type MessageListener = (message: StoredMessage) => void;

export class MessageStore {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #listeners = new Set<MessageListener>();
  #lastReceivedAt: number;

  constructor(db: Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    const row = db.prepare('SELECT MAX(received_at) AS last FROM messages').get() as { last: number | null };
    this.#lastReceivedAt = row.last ?? 0;
  }

  /** Called with every message stored, inbound or reply (the web chat's live updates). */
  onStored(listener: MessageListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stores an inbound message; undefined when that chat already has a message with its id. */
  storeInbound(message: InboundMessage): StoredMessage | undefined {
    return this.#insert({
      ...message,
      attachments: message.attachments ?? [],
      fromAssistant: false,
      answersUpTo: null,
    });
  }

  /**
   * Stores a reply of the assistant; `answersUpTo` is the received_at of the last message it answers,
   * `attachments` the files it sent (already kept in the group's folder).
   */
  storeReply(
    chatJid: string,
    senderName: string,
    text: string,
    answersUpTo: number | null,
    attachments: Attachment[] = [],
  ): StoredMessage {
    const stored = this.#insert({
      id: `reply-${randomUUID()}`,
      chatJid,
      sender: 'assistant',
      senderName,
      text,
      timestamp: this.#now(),
      fromAssistant: true,
      answersUpTo,
      attachments,
    });
    if (stored === undefined) throw new Error('a generated reply id collided');
    return stored;
  }

  /** Inbound messages of a chat stored after `cursor` (a received_at), oldest first. */
  inboundSince(chatJid: string, cursor: number): StoredMessage[] {
    const rows = this.#db
      .prepare(
        'SELECT * FROM messages WHERE chat_jid = ? AND received_at > ? AND from_assistant = 0 ORDER BY received_at',
      )
      .all(chatJid, cursor) as unknown as Row[];
    return rows.map(toMessage);
  }

  /** The message of a chat with this (channel) id, if one is stored. */
  get(chatJid: string, id: string): StoredMessage | undefined {
    const row = this.#db.prepare('SELECT * FROM messages WHERE chat_jid = ? AND id = ?').get(chatJid, id) as
      | Row
      | undefined;
    return row === undefined ? undefined : toMessage(row);
  }

  /** The last `limit` messages of a chat, oldest first. */
  recent(chatJid: string, limit: number): StoredMessage[] {
    const rows = this.#db
      .prepare('SELECT * FROM messages WHERE chat_jid = ? ORDER BY received_at DESC LIMIT ?')
      .all(chatJid, limit) as unknown as Row[];
    return rows.map(toMessage).reverse();
  }

  /** The furthest point any stored reply of this chat answered, or 0. */
  repliedUpTo(chatJid: string): number {
    const row = this.#db
      .prepare('SELECT MAX(answers_up_to) AS upTo FROM messages WHERE chat_jid = ? AND from_assistant = 1')
      .get(chatJid) as { upTo: number | null };
    return row.upTo ?? 0;
  }

  /** Time of the newest inbound message anywhere, for /health. */
  lastInboundAt(): number | undefined {
    const row = this.#db
      .prepare('SELECT MAX(timestamp) AS last FROM messages WHERE from_assistant = 0')
      .get() as {
      last: number | null;
    };
    return row.last ?? undefined;
  }

  #insert(message: Omit<StoredMessage, 'seq' | 'receivedAt'>): StoredMessage | undefined {
    const receivedAt = Math.max(this.#now(), this.#lastReceivedAt + 1);
    const result = this.#db
      .prepare(
        `INSERT OR IGNORE INTO messages
           (id, chat_jid, sender, sender_name, text, timestamp, received_at, from_assistant, answers_up_to,
            attachments)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        message.id,
        message.chatJid,
        message.sender,
        message.senderName,
        message.text,
        message.timestamp,
        receivedAt,
        message.fromAssistant ? 1 : 0,
        message.answersUpTo,
        message.attachments.length === 0 ? null : JSON.stringify(message.attachments),
      );
    if (result.changes === 0) return undefined;
    this.#lastReceivedAt = receivedAt;
    const stored: StoredMessage = { ...message, seq: Number(result.lastInsertRowid), receivedAt };
    for (const listener of this.#listeners) listener(stored);
    return stored;
  }
}
