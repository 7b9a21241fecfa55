/**
 * WhatsApp through Baileys, mapped both ways at this boundary: Baileys' `connection.update`,
 * `messages.upsert` and `creds.update` events in; `sendMessage` / `sendPresenceUpdate` out. Media (images,
 * documents, video, audio) come in as the message's files and go out as images or documents
 * (whatsapp-files.ts).
 *
 * Pairing: a QR code (printed in the terminal, drawn on the web page), or with WHATSAPP_PHONE_NUMBER a
 * pairing code to type on the phone. Credentials are kept in store/auth_info_baileys/ and reused on every
 * reconnect. When WhatsApp logs the device out, those credentials are useless: they are moved aside
 * (auth_info_baileys.logged-out-<time>) and pairing starts again, so the page shows a fresh QR code.
 * A dropped connection is reopened after a back-off (1 s doubling to a minute, ±20%), at most 25 times in a
 * row without staying connected; then the status says it gave up.
 */
import { existsSync, renameSync } from 'node:fs';
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import type {
  AuthenticationState,
  ConnectionState,
  UserFacingSocketConfig,
  WAMessage,
} from '@whiskeysockets/baileys';
import qrcodeTerminal from 'qrcode-terminal';
import type { OutgoingFile } from '../files/attachment.ts';
import type { Logger } from '../log.ts';
import { type Channel, type ChannelStatus, type IncomingMessage, splitText } from './channel.ts';
import { type MediaContent, type MediaSource, mediaContent, messageFiles } from './whatsapp-files.ts';

/** The slice of a Baileys socket this adapter uses. */
export interface WhatsAppSocket {
  ev: {
    on(event: 'connection.update', listener: (update: Partial<ConnectionState>) => void): void;
    on(event: 'creds.update', listener: (update: unknown) => void): void;
    on(event: 'messages.upsert', listener: (upsert: { messages: WAMessage[]; type: string }) => void): void;
    on(event: 'groups.upsert', listener: (groups: Array<{ id: string; subject?: string }>) => void): void;
  };
  user?: { id: string; name?: string } | undefined;
  sendMessage(jid: string, content: { text: string } | MediaContent): Promise<WAMessage | undefined>;
  /** Asks the sender's phone to upload a message's media again (it expired on WhatsApp's server). */
  updateMediaMessage(message: WAMessage): Promise<WAMessage>;
  sendPresenceUpdate(type: 'composing' | 'paused', jid: string): Promise<void>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  end(error: Error | undefined): void;
}

export type SocketFactory = (config: UserFacingSocketConfig) => WhatsAppSocket;

export interface WhatsAppOptions {
  authDir: string;
  assistantName: string;
  pairingPhoneNumber: string | undefined;
  log: Logger;
  /** Baileys' makeWASocket by default. */
  makeSocket?: SocketFactory;
  /** Where the terminal QR code goes; stderr by default. */
  printQr?: (text: string) => void;
  /** Between reconnects after a dropped connection; RECONNECT_BACKOFF by default. */
  reconnectBackoff?: Backoff;
  /** Reconnects in a row that fail before the channel gives up; MAX_RECONNECTS by default. */
  maxReconnects?: number;
}

const RECONNECT_BACKOFF: Backoff = { firstMs: 1_000, longestMs: 60_000, jitter: 0.2 };
/** About 20 minutes of trying at the longest delay: an outage longer than that needs a person. */
const MAX_RECONNECTS = 25;

/** Baileys' status codes that matter here (DisconnectReason). */
const LOGGED_OUT = 401;
const RESTART_REQUIRED = 515;
const MAX_TEXT = 60_000;
/** How recent an `append` message must be to count as new. */
const APPEND_WINDOW_MS = 2 * 60_000;

export class WhatsAppChannel implements Channel {
  readonly name = 'whatsapp' as const;
  /** Replies are sent from the user's own account, so they carry the assistant's name. */
  readonly prefixesReplies = true;
  readonly #options: WhatsAppOptions;
  readonly #handlers: Array<(message: IncomingMessage) => Promise<void>> = [];
  readonly #statusHandlers: Array<(status: ChannelStatus) => void> = [];
  /** Ids of messages this adapter sent: Baileys hands them back in messages.upsert. */
  readonly #sent = new Set<string>();
  readonly #groupNames = new Map<string, string>();
  #socket: WhatsAppSocket | undefined;
  #status: ChannelStatus = { state: 'disconnected' };
  #stopped = false;
  #reconnects = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pairingRequested = false;
  /** Messages handed over one after another, in the order WhatsApp delivered them. */
  #received: Promise<void> = Promise.resolve();

  constructor(options: WhatsAppOptions) {
    this.#options = options;
  }

  ownsJid(jid: string): boolean {
    return /@(g\.us|s\.whatsapp\.net|lid)$/.test(jid);
  }

  /** Resolves once connected, or once pairing has begun (a person must act), or the first attempt failed. */
  async connect(): Promise<void> {
    this.#stopped = false;
    await new Promise<void>((resolve) => {
      const settle = (status: ChannelStatus) => {
        if (status.state === 'connecting') return;
        this.#statusHandlers.splice(this.#statusHandlers.indexOf(settle), 1);
        resolve();
      };
      this.#statusHandlers.push(settle);
      this.#open().catch((error: unknown) => {
        this.#setStatus({
          state: 'disconnected',
          detail: `cannot start WhatsApp: ${(error as Error).message}`,
        });
      });
    });
  }

  onMessage(handler: (message: IncomingMessage) => Promise<void>): void {
    this.#handlers.push(handler);
  }

  async sendMessage(jid: string, text: string): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || this.#status.state !== 'connected')
      throw new Error('WhatsApp is not connected');
    for (const piece of splitText(text, MAX_TEXT)) {
      const sent = await socket.sendMessage(jid, { text: piece });
      if (sent?.key.id) this.#sent.add(sent.key.id);
    }
  }

  async sendFile(jid: string, file: OutgoingFile, caption: string | undefined): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || this.#status.state !== 'connected')
      throw new Error('WhatsApp is not connected');
    const sent = await socket.sendMessage(jid, mediaContent(file, caption));
    if (sent?.key.id) this.#sent.add(sent.key.id);
  }

  async setTyping(jid: string, typing: boolean): Promise<void> {
    if (this.#status.state === 'connected')
      await this.#socket?.sendPresenceUpdate(typing ? 'composing' : 'paused', jid);
  }

  async disconnect(): Promise<void> {
    this.#stopped = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#socket?.end(undefined);
    this.#socket = undefined;
    this.#setStatus({ state: 'disconnected' });
  }

  status(): ChannelStatus {
    return this.#status;
  }

  onStatus(handler: (status: ChannelStatus) => void): void {
    this.#statusHandlers.push(handler);
  }

  async #open(): Promise<void> {
    // After a logout the page keeps saying so until the new QR code is up.
    if (this.#status.state !== 'logged_out') this.#setStatus({ state: 'connecting' });
    const baileys = await import('@whiskeysockets/baileys');
    const { state, saveCreds } = await baileys.useMultiFileAuthState(this.#options.authDir);
    if (this.#stopped) return;
    const make = this.#options.makeSocket ?? (baileys.makeWASocket as unknown as SocketFactory);
    const socket = make({
      auth: state as AuthenticationState,
      logger: baileysLogger(this.#options.log) as unknown as UserFacingSocketConfig['logger'],
      browser: ['NanoClaw', 'Chrome', '1.0'],
      markOnlineOnConnect: false,
      syncFullHistory: false,
    });
    this.#socket = socket;
    this.#pairingRequested = false;
    socket.ev.on('creds.update', () => {
      saveCreds().catch((error: unknown) =>
        this.#options.log.error({ error }, 'could not save WhatsApp credentials'),
      );
    });
    socket.ev.on('connection.update', (update) => this.#onConnection(socket, update, state));
    const media: MediaSource = {
      download: (message) => baileys.downloadMediaMessage(message, 'stream', {}),
      reupload: (message) => socket.updateMediaMessage(message),
    };
    socket.ev.on('messages.upsert', (upsert) => {
      // notify: new messages, also those that came while offline. append: mostly history being synced;
      // only its recent messages (sent from the phone just now) count, or old chats would be answered.
      const since = upsert.type === 'append' ? Date.now() - APPEND_WINDOW_MS : undefined;
      if (upsert.type !== 'notify' && since === undefined) return;
      for (const message of upsert.messages) {
        this.#received = this.#received.then(() =>
          this.#onMessage(socket, message, since, media).catch((error: unknown) =>
            this.#options.log.error({ channel: 'whatsapp', error }, 'a WhatsApp message could not be stored'),
          ),
        );
      }
    });
    socket.ev.on('groups.upsert', (groups) => {
      for (const group of groups) if (group.subject) this.#groupNames.set(group.id, group.subject);
    });
  }

  #onConnection(socket: WhatsAppSocket, update: Partial<ConnectionState>, auth: AuthenticationState): void {
    if (socket !== this.#socket) return;
    if (update.qr !== undefined) this.#onQr(socket, update.qr, auth);
    if (update.connection === 'open') {
      this.#reconnects = 0;
      this.#setStatus({ state: 'connected' });
      this.#options.log.info({ channel: 'whatsapp', user: socket.user?.id }, 'WhatsApp connected');
      return;
    }
    if (update.connection !== 'close') return;
    const code = (update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output
      ?.statusCode;
    this.#socket = undefined;
    if (this.#stopped) return;
    if (code === LOGGED_OUT) {
      const aside = `${this.#options.authDir}.logged-out-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      if (existsSync(this.#options.authDir)) renameSync(this.#options.authDir, aside);
      this.#options.log.warn(
        { channel: 'whatsapp', movedTo: aside },
        'WhatsApp logged this device out; pairing again',
      );
      this.#setStatus({
        state: 'logged_out',
        detail:
          'WhatsApp logged this device out. Scan the new QR code (or use the pairing code) to link it again.',
      });
      this.#scheduleReconnect(0);
      return;
    }
    const maxReconnects = this.#options.maxReconnects ?? MAX_RECONNECTS;
    if (this.#reconnects >= maxReconnects) {
      this.#options.log.error(
        { channel: 'whatsapp', code, reconnects: this.#reconnects },
        'WhatsApp did not stay connected; no more reconnects until NanoClaw restarts',
      );
      this.#setStatus({
        state: 'disconnected',
        detail: `connection closed (${code ?? 'no status'}); gave up after ${this.#reconnects} reconnects in a row: restart NanoClaw to try again`,
      });
      return;
    }
    this.#reconnects++;
    const delay =
      code === RESTART_REQUIRED
        ? 0
        : backoffDelay(this.#options.reconnectBackoff ?? RECONNECT_BACKOFF, this.#reconnects);
    this.#setStatus({
      state: 'disconnected',
      detail: `connection closed (${code ?? 'no status'}); reconnecting`,
    });
    this.#scheduleReconnect(delay);
  }

  #onQr(socket: WhatsAppSocket, qr: string, auth: AuthenticationState): void {
    const phone = this.#options.pairingPhoneNumber;
    if (phone !== undefined && !auth.creds.registered) {
      if (this.#pairingRequested) return;
      this.#pairingRequested = true;
      socket.requestPairingCode(phone).then(
        (code) => {
          this.#options.log.info(
            { channel: 'whatsapp', code },
            'WhatsApp pairing code: enter it on the phone',
          );
          this.#setStatus({
            state: 'pairing',
            qr,
            pairingCode: code,
            detail: 'enter the pairing code on your phone',
          });
        },
        (error: unknown) => {
          this.#options.log.error(
            { channel: 'whatsapp', error },
            'could not get a pairing code; use the QR code',
          );
          this.#showQr(qr);
        },
      );
      return;
    }
    this.#showQr(qr);
  }

  #showQr(qr: string): void {
    const print = this.#options.printQr ?? ((text: string) => process.stderr.write(text));
    qrcodeTerminal.generate(qr, { small: true }, (art) =>
      print(`Scan with WhatsApp (Settings > Linked devices):\n${art}\n`),
    );
    const relink = this.#status.state === 'logged_out' ? 'WhatsApp logged this device out: ' : '';
    this.#setStatus({ state: 'pairing', qr, detail: `${relink}scan the QR code with WhatsApp` });
  }

  #scheduleReconnect(delay: number): void {
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#stopped) {
        this.#open().catch((error: unknown) =>
          this.#options.log.error({ channel: 'whatsapp', error }, 'WhatsApp reconnect failed'),
        );
      }
    }, delay);
    this.#reconnectTimer.unref();
  }

  async #onMessage(
    socket: WhatsAppSocket,
    message: WAMessage,
    notBefore: number | undefined,
    media: MediaSource,
  ): Promise<void> {
    const key = message.key;
    const jid = key.remoteJid;
    if (!jid || jid === 'status@broadcast' || !key.id || this.#sent.has(key.id)) return;
    const timestamp = Number(message.messageTimestamp ?? Math.floor(Date.now() / 1000)) * 1000;
    if (notBefore !== undefined && timestamp < notBefore) return;
    const text = textOf(message) ?? '';
    const files = messageFiles(message, media);
    if (text === '' && files.length === 0) return;
    // Our own replies sent from another device of this account still carry the assistant's name.
    if (key.fromMe && text.startsWith(`${this.#options.assistantName}:`)) return;
    const own = socket.user?.id;
    const sender = key.fromMe ? (own ?? 'me') : (key.participant ?? jid);
    const senderName =
      message.pushName ?? (key.fromMe ? (socket.user?.name ?? 'me') : (sender.split('@')[0] ?? sender));
    await this.#emit({
      chatJid: jid,
      chatName: this.#groupNames.get(jid) ?? (jid.endsWith('@g.us') ? '' : senderName),
      id: key.id,
      sender,
      senderName,
      text,
      timestamp,
      files,
    });
  }

  async #emit(message: IncomingMessage): Promise<void> {
    for (const handler of this.#handlers) await handler(message);
  }

  #setStatus(status: ChannelStatus): void {
    this.#status = status;
    for (const handler of [...this.#statusHandlers]) handler(status);
  }
}

/** The text of a message: plain, extended (replies, links) or a media caption. */
export function textOf(message: WAMessage): string | undefined {
  const content = message.message;
  if (!content) return undefined;
  const text =
    content.conversation ??
    content.extendedTextMessage?.text ??
    content.imageMessage?.caption ??
    content.videoMessage?.caption ??
    content.documentMessage?.caption ??
    content.documentWithCaptionMessage?.message?.documentMessage?.caption ??
    undefined;
  return text === null || text === undefined || text.trim() === '' ? undefined : text;
}

/** Baileys wants a pino-like logger; it is chatty, so everything goes to our debug level. */
function baileysLogger(log: Logger) {
  const make = (): Record<string, unknown> => {
    const at = (message: string) => (object: unknown, text?: string) =>
      log.debug(
        { channel: 'whatsapp', detail: typeof object === 'string' ? object : undefined },
        text ?? message,
      );
    return {
      level: 'warn',
      child: () => make(),
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: at('baileys warning'),
      error: at('baileys error'),
    };
  };
  return make();
}
