/**
 * The built-in web chat: works offline, and is the default channel. Chat `name` is chat id `web:name`.
 *
 *   GET  /                               the chat page (?chat=name, default main)
 *   GET  /api/chats/{chat}/messages      [{"id","sender","text","timestamp","from_assistant","attachments"}],
 *                                        oldest first; each attachment {"name","type","size","url"}
 *   POST /api/chats/{chat}/messages      {"sender","text"} as JSON, or as multipart/form-data with up to
 *                                        MAX_FILES_PER_MESSAGE `files` -> 201 with the stored message
 *   GET  /api/chats/{chat}/files/{name}  a file of the chat (files/serve.ts: images inline, else a download)
 *   GET  /api/chats/{chat}/stream        SSE: `message` (as above), `typing` {"typing"}, `status`, `ping`
 *   GET  /api/status                     channel states (and the WhatsApp QR code as SVG while pairing)
 *
 * Only registered chats exist here (404 otherwise). Replies need no sending: Outbound stores them (and
 * keeps the files they send) and the stream carries every stored message to the open pages. An
 * attachment's `url` is relative to the page's directory, like everything the page asks for.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingFile } from '../files/attachment.ts';
import { FileRefusedError, type GroupFiles } from '../files/group-files.ts';
import { MAX_FILE_BYTES, MAX_FILES_PER_MESSAGE } from '../files/limits.ts';
import { sendFile } from '../files/serve.ts';
import { isMultipart, readUpload, type Upload } from '../files/upload.ts';
import { HttpError, readJsonObject, sendJson } from '../http/json.ts';
import { FOLDER_PATTERN } from '../layout.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { MessageStore, StoredMessage } from '../store/messages.ts';
import type { Channel, IncomingMessage as ChannelMessage, ChannelStatus } from './channel.ts';
import { chatPage, closedPage } from './web-page.ts';

export const WEB_PREFIX = 'web:';
const MAX_TEXT = 32_000;
const HEARTBEAT_MS = 25_000;

export interface WebChannelDeps {
  messages: MessageStore;
  groups: GroupRegistry;
  /** Where each chat's files are kept (its group's folder). */
  files: GroupFiles;
  assistantName: string;
  /** Every channel's status, for /api/status and the page's QR code. */
  statusView(): Promise<unknown>;
  /** Set when the chat must not be served (why, for a person): every request gets this notice instead. */
  closed?: string | undefined;
}

interface Subscriber {
  jid: string;
  response: ServerResponse;
}

export function messageView(message: StoredMessage) {
  const files = `api/chats/${encodeURIComponent(message.chatJid.slice(WEB_PREFIX.length))}/files/`;
  return {
    id: message.id,
    sender: message.senderName,
    text: message.text,
    timestamp: new Date(message.timestamp).toISOString(),
    from_assistant: message.fromAssistant,
    attachments: message.attachments.map((file) => ({
      name: file.name,
      type: file.type,
      size: file.size,
      url: files + encodeURIComponent(file.name),
    })),
  };
}

export class WebChannel implements Channel {
  readonly name = 'web' as const;
  readonly prefixesReplies = false;
  readonly #deps: WebChannelDeps;
  readonly #subscribers = new Set<Subscriber>();
  readonly #handlers: Array<(message: ChannelMessage) => Promise<void>> = [];
  #status: ChannelStatus = { state: 'disconnected' };
  #statusHandlers: Array<(status: ChannelStatus) => void> = [];
  #unsubscribe: (() => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(deps: WebChannelDeps) {
    this.#deps = deps;
  }

  ownsJid(jid: string): boolean {
    return jid.startsWith(WEB_PREFIX);
  }

  async connect(): Promise<void> {
    this.#unsubscribe = this.#deps.messages.onStored((message) =>
      this.#push(message.chatJid, 'message', messageView(message)),
    );
    this.#heartbeat = setInterval(() => {
      // An event, not a comment: the page sees it, and opens the stream again when pings stop coming.
      for (const subscriber of this.#subscribers) writeEvent(subscriber.response, 'ping', {});
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
    const closed = this.#deps.closed;
    this.#setStatus(
      closed === undefined ? { state: 'connected' } : { state: 'disconnected', detail: closed },
    );
  }

  onMessage(handler: (message: ChannelMessage) => Promise<void>): void {
    this.#handlers.push(handler);
  }

  // No-ops: a reply takes the same path for every channel (Outbound sends it, then stores it and keeps its
  // file), and for the web chat the store is the delivery. Why not send from here: the page is a view of
  // the chat as stored: its stream carries every stored message (those typed in other tabs too, which no
  // sendMessage sees) under the id GET .../messages lists it by, and the page shows each id once, across
  // reloads and reconnects. A push from here would be a second copy, under no id, before the file is kept.
  async sendMessage(): Promise<void> {}

  async sendFile(): Promise<void> {}

  async setTyping(jid: string, typing: boolean): Promise<void> {
    this.#push(jid, 'typing', { typing });
  }

  async disconnect(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    for (const subscriber of this.#subscribers) subscriber.response.end();
    this.#subscribers.clear();
    this.#setStatus({ state: 'disconnected' });
  }

  status(): ChannelStatus {
    return this.#status;
  }

  onStatus(handler: (status: ChannelStatus) => void): void {
    this.#statusHandlers.push(handler);
  }

  /** Tells open pages that some channel's status changed (e.g. a WhatsApp QR code appeared). */
  async broadcastStatus(): Promise<void> {
    if (this.#subscribers.size === 0) return;
    const view = await this.#deps.statusView();
    for (const subscriber of this.#subscribers) writeEvent(subscriber.response, 'status', view);
  }

  /** Serves the request if it is one of the web chat's; false when it is not. */
  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    const method = request.method ?? 'GET';
    const closed = this.#deps.closed;
    if (closed !== undefined) {
      if (path.startsWith('/api/')) throw new HttpError(503, closed);
      response.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(method === 'HEAD' ? undefined : closedPage(closed));
      return true;
    }
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      const page = chatPage(this.#deps.assistantName, HEARTBEAT_MS, {
        maxFiles: MAX_FILES_PER_MESSAGE,
        maxFileBytes: MAX_FILE_BYTES,
      });
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:",
      });
      response.end(method === 'HEAD' ? undefined : page);
      return true;
    }
    if (path === '/api/status' && method === 'GET') {
      sendJson(response, 200, await this.#deps.statusView());
      return true;
    }
    const file = /^\/api\/chats\/([^/]+)\/files\/([^/]+)$/.exec(path);
    if (file !== null) {
      if (method !== 'GET' && method !== 'HEAD')
        throw new HttpError(405, `${method} is not allowed on ${path}; use GET`);
      this.#sendFile(response, file[1] as string, file[2] as string, method === 'HEAD');
      return true;
    }
    const match = /^\/api\/chats\/([^/]+)\/(messages|stream)$/.exec(path);
    if (match === null) return false;
    const jid = this.#registeredJid(decoded(match[1] as string));
    if (match[2] === 'stream') {
      if (method !== 'GET') throw new HttpError(405, `${method} is not allowed on ${path}; use GET`);
      this.#subscribe(jid, request, response);
      return true;
    }
    if (method === 'GET') {
      sendJson(response, 200, this.#deps.messages.recent(jid, 500).map(messageView));
      return true;
    }
    if (method === 'POST') {
      const upload: Upload = isMultipart(request)
        ? await readUpload(request)
        : { fields: asFields(await readJsonObject(request)), files: [] };
      sendJson(response, 201, await this.#receive(jid, upload));
      return true;
    }
    throw new HttpError(405, `${method} is not allowed on ${path}; use GET or POST`);
  }

  #registeredJid(chat: string): string {
    if (!FOLDER_PATTERN.test(chat)) {
      throw new HttpError(400, `chat "${chat}": use lowercase letters, digits, _ or - (e.g. main)`);
    }
    const jid = `${WEB_PREFIX}${chat}`;
    if (this.#deps.groups.get(jid) === undefined) {
      throw new HttpError(404, `chat "${chat}" (${jid}) is not registered; the main chat can register it`);
    }
    return jid;
  }

  /** A chat's file, read beneath its group's folder (no link followed); 404 when it has none by that name. */
  #sendFile(response: ServerResponse, chat: string, encodedName: string, head: boolean): void {
    const jid = this.#registeredJid(decoded(chat));
    const folder = this.#deps.groups.get(jid)?.folder as string;
    const name = decoded(encodedName);
    let bytes: Buffer;
    try {
      bytes = this.#deps.files.read(folder, name);
    } catch (error) {
      if (!(error instanceof FileRefusedError)) throw error;
      throw new HttpError(
        error.missing ? 404 : 403,
        `chat "${chat}" has no file "${name}" to serve: ${error.message}`,
      );
    }
    sendFile(response, name, bytes, head);
  }

  async #receive(jid: string, upload: Upload) {
    const { sender, text = '' } = upload.fields;
    if (typeof sender !== 'string' || sender.trim() === '' || sender.length > 64) {
      throw new HttpError(400, 'body.sender: expected a name of 1 to 64 characters');
    }
    if (text.trim() === '' && upload.files.length === 0)
      throw new HttpError(400, 'body.text: expected non-empty text (or files)');
    if (text.length > MAX_TEXT) throw new HttpError(400, `body.text: longer than ${MAX_TEXT} characters`);
    const files: IncomingFile[] = upload.files.map((file) => ({
      name: file.name,
      size: file.bytes.length,
      read: async () => file.bytes,
    }));
    const message: ChannelMessage = {
      chatJid: jid,
      chatName: jid.slice(WEB_PREFIX.length),
      id: `web-${randomUUID()}`,
      sender: `web:${sender.trim()}`,
      senderName: sender.trim(),
      text,
      timestamp: Date.now(),
      files,
    };
    for (const handler of this.#handlers) await handler(message);
    const stored = this.#deps.messages.get(jid, message.id);
    if (stored !== undefined) return messageView(stored);
    // Not stored (a sender the chat holds for approval): what was sent, without files.
    return {
      id: message.id,
      sender: message.senderName,
      text,
      timestamp: new Date(message.timestamp).toISOString(),
      from_assistant: false,
      attachments: [],
    };
  }

  #subscribe(jid: string, request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write(': connected\n\n');
    const subscriber = { jid, response };
    this.#subscribers.add(subscriber);
    request.on('close', () => this.#subscribers.delete(subscriber));
  }

  #push(jid: string, event: string, data: unknown): void {
    for (const subscriber of this.#subscribers) {
      if (subscriber.jid === jid) writeEvent(subscriber.response, event, data);
    }
  }

  #setStatus(status: ChannelStatus): void {
    this.#status = status;
    for (const handler of this.#statusHandlers) handler(status);
  }
}

/** A JSON body's fields as an upload's: strings stay, anything else is left for the checks to refuse. */
function asFields(body: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') fields[key] = value;
  return fields;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `"${segment}" is not a valid URL path segment`);
  }
}

function writeEvent(response: ServerResponse, event: string, data: unknown): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
