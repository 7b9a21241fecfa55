/**
 * The built-in web chat: works offline, and is the default channel. Chat `name` is chat id `web:name`.
 *
 *   GET  /                               the chat page (?chat=name, default main)
 *   GET  /api/chats/{chat}/messages      [{"id","sender","text","timestamp","from_assistant"}], oldest first
 *   POST /api/chats/{chat}/messages      {"sender","text"} -> 201 with the stored message
 *   GET  /api/chats/{chat}/stream        SSE: `message` (as above), `typing` {"typing"}, `status`, `ping`
 *   GET  /api/status                     channel states (and the WhatsApp QR code as SVG while pairing)
 *
 * Only registered chats exist here (404 otherwise). Replies need no sending: Outbound stores them and
 * the stream carries every stored message to the open pages.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  return {
    id: message.id,
    sender: message.senderName,
    text: message.text,
    timestamp: new Date(message.timestamp).toISOString(),
    from_assistant: message.fromAssistant,
  };
}

export class WebChannel implements Channel {
  readonly name = 'web' as const;
  readonly prefixesReplies = false;
  readonly #deps: WebChannelDeps;
  readonly #subscribers = new Set<Subscriber>();
  readonly #handlers: Array<(message: ChannelMessage) => void> = [];
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

  onMessage(handler: (message: ChannelMessage) => void): void {
    this.#handlers.push(handler);
  }

  async sendMessage(): Promise<void> {
    // Delivery is the stored reply, which the stream pushes to open pages (see the file comment).
  }

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
      const page = chatPage(this.#deps.assistantName, HEARTBEAT_MS);
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
    const match = /^\/api\/chats\/([^/]+)\/(messages|stream)$/.exec(path);
    if (match === null) return false;
    const jid = this.#registeredJid(decodeURIComponent(match[1] as string));
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
      const body = await readJsonObject(request);
      sendJson(response, 201, this.#receive(jid, body));
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

  #receive(jid: string, body: Record<string, unknown>) {
    const sender = body.sender;
    const text = body.text;
    if (typeof sender !== 'string' || sender.trim() === '' || sender.length > 64) {
      throw new HttpError(400, 'body.sender: expected a name of 1 to 64 characters');
    }
    if (typeof text !== 'string' || text.trim() === '')
      throw new HttpError(400, 'body.text: expected non-empty text');
    if (text.length > MAX_TEXT) throw new HttpError(400, `body.text: longer than ${MAX_TEXT} characters`);
    const message: ChannelMessage = {
      chatJid: jid,
      chatName: jid.slice(WEB_PREFIX.length),
      id: `web-${randomUUID()}`,
      sender: `web:${sender.trim()}`,
      senderName: sender.trim(),
      text,
      timestamp: Date.now(),
    };
    for (const handler of this.#handlers) handler(message);
    return {
      id: message.id,
      sender: message.senderName,
      text,
      timestamp: new Date(message.timestamp).toISOString(),
      from_assistant: false,
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

function writeEvent(response: ServerResponse, event: string, data: unknown): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
