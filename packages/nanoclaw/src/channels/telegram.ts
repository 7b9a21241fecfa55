/**
 * Telegram through grammY. Chat ids are `tg:<chat id>`. In groups, people address the bot as
 * `@its_username`; that mention at the start becomes the assistant's trigger, so the router needs to know
 * only one. `TELEGRAM_API_ROOT` points grammY at another Bot API server (a self-hosted one, or a test's
 * stand-in).
 *
 * Photos, documents, videos, audio and voice notes come in as the message's files (their caption as its
 * text), and files go out as photos or documents (telegram-files.ts).
 *
 * Updates come by long polling, or, with TELEGRAM_WEBHOOK_URL, by webhook: Telegram posts each update to
 * that URL (which reaches this host's TELEGRAM_WEBHOOK_PATH), with the secret it was given in a header.
 * An update is answered 200 only once it is stored, so Telegram's own retries cover a failure; and since
 * Telegram keeps posting while this host is stopped, a host that stops it when idle (Boilerhouse's
 * gateway) can start it again for the next update, which a poller would never see.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage as HttpRequest, ServerResponse } from 'node:http';
import { Bot, GrammyError } from 'grammy';
import type { OutgoingFile } from '../files/attachment.ts';
import { MAX_FILE_BYTES } from '../files/limits.ts';
import { HttpError, readJsonObject, sendJson } from '../http/json.ts';
import type { Logger } from '../log.ts';
import { type Channel, type ChannelStatus, type IncomingMessage, splitText } from './channel.ts';
import { messageFiles, sendTelegramFile } from './telegram-files.ts';

export const TELEGRAM_PREFIX = 'tg:';
/** The Bot API's limit per message. */
const MAX_MESSAGE = 4096;
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** An update that arrives while the bot is still starting (a host woken by it) waits this long for it. */
const STARTING_WAIT_MS = 10_000;

export interface TelegramOptions {
  token: string;
  apiRoot: string | undefined;
  /** Webhook mode: the public URL Telegram posts updates to, and the secret it sends with each. */
  webhook: { url: string; secret: string } | undefined;
  assistantName: string;
  log: Logger;
}

export class TelegramChannel implements Channel {
  readonly name = 'telegram' as const;
  readonly prefixesReplies = false;
  readonly #bot: Bot;
  readonly #options: TelegramOptions;
  readonly #handlers: Array<(message: IncomingMessage) => Promise<void>> = [];
  readonly #statusHandlers: Array<(status: ChannelStatus) => void> = [];
  #status: ChannelStatus = { state: 'disconnected' };
  #polling: Promise<void> | undefined;
  /** Resolved once the bot knows itself (getMe): only then can it take an update. */
  readonly #initialized = Promise.withResolvers<void>();

  constructor(options: TelegramOptions) {
    this.#options = options;
    this.#bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
    // Awaited: an update is taken (a webhook answered 200) only once its message and files are stored.
    this.#bot.on('message', async (ctx) => {
      const message = ctx.message;
      const text = message.text ?? message.caption ?? '';
      const source = { api: this.#bot.api, token: options.token, apiRoot: options.apiRoot };
      const files = messageFiles(source, message, MAX_FILE_BYTES);
      // Stickers, polls, people joining: nothing to store.
      if (text === '' && files.length === 0) return;
      const chat = ctx.chat;
      const from = message.from;
      const senderName =
        [from?.first_name, from?.last_name].filter(Boolean).join(' ') || from?.username || 'someone';
      await this.#emit({
        chatJid: `${TELEGRAM_PREFIX}${chat.id}`,
        chatName: chat.type === 'private' ? senderName : chat.title,
        id: String(message.message_id),
        sender: String(from?.id ?? chat.id),
        senderName,
        text: this.#withTrigger(text),
        timestamp: message.date * 1000,
        files,
      });
    });
    this.#bot.catch((error) =>
      options.log.error({ channel: 'telegram', error: error.error }, 'Telegram update failed'),
    );
  }

  ownsJid(jid: string): boolean {
    return jid.startsWith(TELEGRAM_PREFIX);
  }

  async connect(): Promise<void> {
    this.#setStatus({ state: 'connecting' });
    try {
      await this.#bot.init();
    } catch (error) {
      const detail =
        error instanceof GrammyError && error.error_code === 401
          ? 'Telegram refused the bot token (401): check TELEGRAM_BOT_TOKEN'
          : `cannot reach the Telegram Bot API: ${(error as Error).message}`;
      this.#setStatus({ state: 'disconnected', detail });
      throw new Error(detail);
    }
    this.#initialized.resolve();
    const webhook = this.#options.webhook;
    if (webhook !== undefined) {
      try {
        await this.#bot.api.setWebhook(webhook.url, { secret_token: webhook.secret });
      } catch (error) {
        const detail = `Telegram did not take the webhook ${webhook.url}: ${(error as Error).message}`;
        this.#setStatus({ state: 'disconnected', detail });
        throw new Error(detail);
      }
      this.#setStatus({ state: 'connected' });
      this.#options.log.info(
        { channel: 'telegram', bot: this.#bot.botInfo.username, webhook: webhook.url },
        'Telegram connected (webhook)',
      );
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#polling = this.#bot
        .start({ drop_pending_updates: false, onStart: () => resolve() })
        .catch((error: unknown) => {
          this.#setStatus({ state: 'disconnected', detail: `polling stopped: ${(error as Error).message}` });
          this.#options.log.error({ channel: 'telegram', error }, 'Telegram polling stopped');
          reject(error);
        });
    });
    this.#setStatus({ state: 'connected' });
    this.#options.log.info({ channel: 'telegram', bot: this.#bot.botInfo.username }, 'Telegram connected');
  }

  /**
   * One update Telegram posted to the webhook: 401 unless it carries the secret, 200 once it is handled
   * (its message stored), an error status otherwise, so that Telegram sends it again.
   */
  async handleWebhook(request: HttpRequest, response: ServerResponse): Promise<void> {
    const webhook = this.#options.webhook;
    if (webhook === undefined) throw new HttpError(404, 'Telegram updates come by polling here');
    if (request.method !== 'POST') throw new HttpError(405, 'Telegram posts updates');
    if (!sameSecret(request.headers[SECRET_HEADER], webhook.secret)) {
      this.#options.log.warn({ channel: 'telegram' }, 'webhook request without the right secret refused');
      throw new HttpError(401, 'not the secret this webhook was set with');
    }
    const update = await readJsonObject(request);
    if (typeof update.update_id !== 'number') throw new HttpError(400, 'body: not a Telegram update');
    await this.#started();
    try {
      await this.#bot.handleUpdate(update as unknown as Parameters<Bot['handleUpdate']>[0]);
    } catch (error) {
      this.#options.log.error(
        { channel: 'telegram', update: update.update_id, error },
        'Telegram update failed; Telegram will send it again',
      );
      throw new HttpError(500, 'the update was not taken; send it again');
    }
    sendJson(response, 200, {});
  }

  onMessage(handler: (message: IncomingMessage) => Promise<void>): void {
    this.#handlers.push(handler);
  }

  async sendMessage(jid: string, text: string): Promise<void> {
    const chatId = this.#chatId(jid);
    for (const piece of splitText(text, MAX_MESSAGE)) await this.#bot.api.sendMessage(chatId, piece);
  }

  async sendFile(jid: string, file: OutgoingFile, caption: string | undefined): Promise<void> {
    await sendTelegramFile(this.#bot.api, this.#chatId(jid), file, caption);
  }

  async setTyping(jid: string, typing: boolean): Promise<void> {
    // Telegram shows "typing" for ~5 s per call and has no way to stop it early.
    if (typing) await this.#bot.api.sendChatAction(this.#chatId(jid), 'typing');
  }

  async disconnect(): Promise<void> {
    // A webhook stays set: Telegram keeps the updates for it, and its next one starts a stopped host again.
    if (this.#bot.isRunning()) await this.#bot.stop();
    await this.#polling?.catch(() => undefined);
    this.#setStatus({ state: 'disconnected' });
  }

  status(): ChannelStatus {
    return this.#status;
  }

  onStatus(handler: (status: ChannelStatus) => void): void {
    this.#statusHandlers.push(handler);
  }

  /** Waits for the bot to know itself, for an update that woke this host while it starts; 503 meanwhile. */
  async #started(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HttpError(503, 'the bot is still starting; send it again')),
        STARTING_WAIT_MS,
      );
    });
    try {
      await Promise.race([this.#initialized.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `@botname rest` -> `@Andy rest`, so the trigger works the same as on other channels. */
  #withTrigger(text: string): string {
    const username = this.#bot.botInfo?.username;
    if (username === undefined) return text;
    const mention = new RegExp(`^\\s*@${username}\\b`, 'i');
    return mention.test(text) ? text.replace(mention, `@${this.#options.assistantName}`) : text;
  }

  #chatId(jid: string): number {
    const id = Number(jid.slice(TELEGRAM_PREFIX.length));
    if (!this.ownsJid(jid) || !Number.isSafeInteger(id)) throw new Error(`${jid} is not a Telegram chat id`);
    return id;
  }

  async #emit(message: IncomingMessage): Promise<void> {
    for (const handler of this.#handlers) await handler(message);
  }

  #setStatus(status: ChannelStatus): void {
    this.#status = status;
    for (const handler of this.#statusHandlers) handler(status);
  }
}

/** Compares digests, so neither the secret's bytes nor its length show in the time taken. */
function sameSecret(header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(header), digest(secret));
}
