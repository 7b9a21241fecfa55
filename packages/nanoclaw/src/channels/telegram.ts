/**
 * Telegram through grammY (long polling). Chat ids are `tg:<chat id>`. In groups, people address the bot
 * as `@its_username`; that mention at the start becomes the assistant's trigger, so the router needs to
 * know only one. `TELEGRAM_API_ROOT` points grammY at another Bot API server (a self-hosted one, or a
 * test's stand-in).
 */
import { Bot, GrammyError } from 'grammy';
import type { Logger } from '../log.ts';
import { type Channel, type ChannelStatus, type IncomingMessage, splitText } from './channel.ts';

export const TELEGRAM_PREFIX = 'tg:';
/** The Bot API's limit per message. */
const MAX_MESSAGE = 4096;

export interface TelegramOptions {
  token: string;
  apiRoot: string | undefined;
  assistantName: string;
  log: Logger;
}

export class TelegramChannel implements Channel {
  readonly name = 'telegram' as const;
  readonly prefixesReplies = false;
  readonly #bot: Bot;
  readonly #options: TelegramOptions;
  readonly #handlers: Array<(message: IncomingMessage) => void> = [];
  readonly #statusHandlers: Array<(status: ChannelStatus) => void> = [];
  #status: ChannelStatus = { state: 'disconnected' };
  #polling: Promise<void> | undefined;

  constructor(options: TelegramOptions) {
    this.#options = options;
    this.#bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
    this.#bot.on('message:text', (ctx) => {
      const message = ctx.message;
      const chat = ctx.chat;
      const from = message.from;
      const senderName =
        [from?.first_name, from?.last_name].filter(Boolean).join(' ') || from?.username || 'someone';
      this.#emit({
        chatJid: `${TELEGRAM_PREFIX}${chat.id}`,
        chatName: chat.type === 'private' ? senderName : chat.title,
        id: String(message.message_id),
        sender: String(from?.id ?? chat.id),
        senderName,
        text: this.#withTrigger(message.text),
        timestamp: message.date * 1000,
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

  onMessage(handler: (message: IncomingMessage) => void): void {
    this.#handlers.push(handler);
  }

  async sendMessage(jid: string, text: string): Promise<void> {
    const chatId = this.#chatId(jid);
    for (const piece of splitText(text, MAX_MESSAGE)) await this.#bot.api.sendMessage(chatId, piece);
  }

  async setTyping(jid: string, typing: boolean): Promise<void> {
    // Telegram shows "typing" for ~5 s per call and has no way to stop it early.
    if (typing) await this.#bot.api.sendChatAction(this.#chatId(jid), 'typing');
  }

  async disconnect(): Promise<void> {
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

  #emit(message: IncomingMessage): void {
    for (const handler of this.#handlers) handler(message);
  }

  #setStatus(status: ChannelStatus): void {
    this.#status = status;
    for (const handler of this.#statusHandlers) handler(status);
  }
}
