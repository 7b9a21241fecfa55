/**
 * The channels this configuration turns on (web chat, Telegram, WhatsApp), made but not connected, and
 * their connection once the HTTP server serves. At least one must be on, and at least one must connect.
 */
import type { Config } from '../config.ts';
import type { GroupFiles } from '../files/group-files.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { MessageStore } from '../store/messages.ts';
import type { Channel } from './channel.ts';
import type { TelegramChannel } from './telegram.ts';
import { WebChannel } from './web.ts';
import { type SocketFactory, WhatsAppChannel } from './whatsapp.ts';

export interface HostChannels {
  all: Channel[];
  web: WebChannel | undefined;
  /** Telegram in webhook mode: its updates come through the HTTP server. */
  telegramWebhook: TelegramChannel | undefined;
}

export interface ChannelDeps {
  config: Config;
  layout: Layout;
  messages: MessageStore;
  groups: GroupRegistry;
  files: GroupFiles;
  log: Logger;
  whatsappSocket: SocketFactory | undefined;
}

const CLOSED_WITHOUT_TOKEN =
  "The web chat is closed: this NanoClaw must not serve a chat without a token (NANOCLAW_WEB_REQUIRE_TOKEN, on by default when hosted by Boilerhouse), and NANOCLAW_WEB_TOKEN is not set. Set NANOCLAW_WEB_TOKEN (16 or more characters) in the tenant's secrets or the .env, restart, and open /?token=<that token>.";

export async function openChannels(deps: ChannelDeps): Promise<HostChannels> {
  const { config, log } = deps;
  const all: Channel[] = [];
  let web: WebChannel | undefined;
  if (config.webChat) {
    const closed = config.webRequireToken && config.webToken === undefined ? CLOSED_WITHOUT_TOKEN : undefined;
    if (closed !== undefined) log.error({ channel: 'web' }, closed);
    web = new WebChannel({
      messages: deps.messages,
      groups: deps.groups,
      files: deps.files,
      assistantName: config.assistantName,
      statusView: () => statusView(config.assistantName, all),
      closed,
    });
    all.push(web);
  }
  let telegramWebhook: TelegramChannel | undefined;
  if (config.telegram.botToken !== undefined) {
    // Loaded only when used: every module loaded at start delays the first health check, and so a claim.
    const { TelegramChannel } = await import('./telegram.ts');
    const telegram = new TelegramChannel({
      token: config.telegram.botToken,
      apiRoot: config.telegram.apiRoot,
      webhook: config.telegram.webhook,
      assistantName: config.assistantName,
      log,
    });
    all.push(telegram);
    if (config.telegram.webhook !== undefined) telegramWebhook = telegram;
  } else log.warn({ channel: 'telegram' }, 'Telegram skipped: no TELEGRAM_BOT_TOKEN');
  if (config.whatsapp.enabled || config.whatsapp.pairingPhoneNumber !== undefined) {
    all.push(
      new WhatsAppChannel({
        authDir: deps.layout.whatsappAuthDir,
        assistantName: config.assistantName,
        pairingPhoneNumber: config.whatsapp.pairingPhoneNumber,
        log,
        ...(deps.whatsappSocket ? { makeSocket: deps.whatsappSocket } : {}),
      }),
    );
  } else
    log.warn(
      { channel: 'whatsapp' },
      'WhatsApp skipped: set WHATSAPP_ENABLED=true (or WHATSAPP_PHONE_NUMBER) to link it',
    );
  if (all.length === 0)
    throw new Error(
      'no channel is enabled: keep the web chat on (NANOCLAW_WEB_CHAT), or configure Telegram or WhatsApp',
    );
  return { all, web, telegramWebhook };
}

/** Connects every channel; throws when none did (each failure is logged). */
export async function connectChannels(channels: Channel[], log: Logger): Promise<void> {
  const results = await Promise.allSettled(channels.map((channel) => channel.connect()));
  for (const [index, result] of results.entries()) {
    if (result.status === 'rejected') {
      log.error({ channel: channels[index]?.name, error: result.reason }, 'channel did not connect');
    }
  }
  if (results.every((result) => result.status === 'rejected'))
    throw new Error('no channel connected; see the errors above');
}

/** Every channel's status for the web page (/api/status), with the WhatsApp QR code drawn as SVG. */
async function statusView(assistant: string, channels: Channel[]) {
  return {
    assistant,
    channels: Object.fromEntries(
      await Promise.all(
        channels.map(async (channel) => {
          const status = channel.status();
          const qrSvg = status.qr ? await qrCodeSvg(status.qr) : undefined;
          return [
            channel.name,
            { state: status.state, detail: status.detail, pairingCode: status.pairingCode, qrSvg },
          ];
        }),
      ),
    ),
  };
}

/** The QR code as SVG for the web page; its library is loaded only when a QR code is shown. */
async function qrCodeSvg(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'svg', margin: 1 });
}
