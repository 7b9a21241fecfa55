/**
 * The Telegram adapter at its boundary: grammY, unchanged, against a local stand-in for the Bot API
 * (TELEGRAM_API_ROOT), inside a real host.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLogger, silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { GroupRegistry } from '../store/groups.ts';
import { type BotApi, startBotApi } from '../testing/bot-api.ts';
import { PNG } from '../testing/images.ts';
import { tempHome } from '../testing/temp-home.ts';
import { TelegramChannel } from './telegram.ts';

const TOKEN = '123456:test-token';
let home: Awaited<ReturnType<typeof tempHome>>;
let api: BotApi;
let nanoclaw: Nanoclaw | undefined;

beforeEach(async () => {
  home = await tempHome();
  api = await startBotApi({ token: TOKEN, username: 'andy_bot' });
});

afterEach(async () => {
  await nanoclaw?.stop();
  nanoclaw = undefined;
  await api.close();
  await home.remove();
});

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('Telegram channel', () => {
  it('notes unregistered chats, answers registered ones, and maps the bot mention to the trigger', async () => {
    nanoclaw = await startNanoclaw(
      loadConfig({
        NANOCLAW_HOME: home.path,
        NANOCLAW_PORT: '0',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: api.url,
      }),
      { log: silentLogger },
    );
    const healthBody = (await (await fetch(`${nanoclaw.url}/health`)).json()) as { channels: unknown };
    expect(healthBody.channels).toEqual({ web: { state: 'connected' }, telegram: { state: 'connected' } });

    api.pushMessage({
      chatId: -100123,
      chatTitle: 'Book Club',
      fromId: 7,
      firstName: 'Dana',
      text: 'anyone here?',
    });
    const groupsFile = join(nanoclaw.layout.ipcDir('main'), 'available_groups.json');
    // Not registered: the chat is noted (for main to register), its message is not stored.
    await until(() => readFileSafe(groupsFile).includes('Book Club'), 'the chat to be noted');

    // Main registers the chat through its IPC dir, as its agent would.
    const dir = join(nanoclaw.layout.ipcDir('main'), 'tasks');
    writeFileSync(
      join(dir, '1.json.tmp'),
      JSON.stringify({ type: 'register_group', jid: 'tg:-100123', name: 'Book Club', folder: 'book-club' }),
    );
    renameSync(join(dir, '1.json.tmp'), join(dir, '1.json'));
    const bookClub = () =>
      (JSON.parse(readFileSafe(groupsFile) || '[]') as Array<{ jid: string; registered: boolean }>).find(
        (chat) => chat.jid === 'tg:-100123',
      );
    await until(() => bookClub()?.registered === true, 'the group to be registered');
    expect(JSON.parse(readFileSync(groupsFile, 'utf8'))).toContainEqual(
      expect.objectContaining({
        jid: 'tg:-100123',
        name: 'Book Club',
        folder: 'book-club',
        registered: true,
      }),
    );

    api.pushMessage({
      chatId: -100123,
      chatTitle: 'Book Club',
      fromId: 7,
      firstName: 'Dana',
      text: 'just chatting',
    });
    api.pushMessage({
      chatId: -100123,
      chatTitle: 'Book Club',
      fromId: 7,
      firstName: 'Dana',
      text: '@andy_bot which book next?',
    });
    await until(() => api.calls.some((call) => call.method === 'sendMessage'), 'a reply');
    const sent = api.calls.filter((call) => call.method === 'sendMessage');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body.chat_id).toBe(-100123);
    // No model configured: the clear notice, without a name prefix (the bot has its own identity).
    expect(String(sent[0]?.body.text)).toMatch(/^No model is configured/);

    // Both messages are stored (context for the agent), the mention turned into the trigger.
    const db = new DatabaseSync(nanoclaw.layout.databasePath, { readOnly: true });
    const rows = db
      .prepare("SELECT text, from_assistant FROM messages WHERE chat_jid = 'tg:-100123' ORDER BY received_at")
      .all();
    db.close();
    expect(rows.map((row) => [row.text, row.from_assistant])).toEqual([
      ['just chatting', 0],
      ['@Andy which book next?', 0],
      [sent[0]?.body.text, 1],
    ]);
  });

  it('reports a refused token as a disconnected channel, not a crash', async () => {
    const channel = new TelegramChannel({
      token: '999:wrong',
      apiRoot: api.url,
      webhook: undefined,
      assistantName: 'Andy',
      log: silentLogger,
    });
    await expect(channel.connect()).rejects.toThrow(
      'Telegram refused the bot token (401): check TELEGRAM_BOT_TOKEN',
    );
    expect(channel.status()).toEqual({
      state: 'disconnected',
      detail: 'Telegram refused the bot token (401): check TELEGRAM_BOT_TOKEN',
    });
  });

  it('splits long replies at the Bot API limit and shows typing', async () => {
    const lines: string[] = [];
    const channel = new TelegramChannel({
      token: TOKEN,
      apiRoot: api.url,
      webhook: undefined,
      assistantName: 'Andy',
      log: createLogger({ write: (line) => lines.push(line) }),
    });
    await channel.connect();
    await channel.setTyping('tg:5', true);
    await channel.sendMessage('tg:5', `${'a'.repeat(4000)}\n${'b'.repeat(1000)}`);
    await channel.disconnect();
    expect(
      api.calls
        .filter((call) => call.method !== 'getMe' && call.method !== 'deleteWebhook')
        .map((call) => [call.method, call.body.chat_id, String(call.body.text ?? call.body.action).length]),
    ).toEqual([
      ['sendChatAction', 5, 6],
      ['sendMessage', 5, 4000],
      ['sendMessage', 5, 1000],
    ]);
    await expect(channel.sendMessage('web:main', 'x')).rejects.toThrow('web:main is not a Telegram chat id');
  });
});

describe('Telegram channel, webhook mode', () => {
  it('sets the webhook with its secret, refuses updates without it, and answers what Telegram posts once stored', async () => {
    const secret = randomBytes(24).toString('base64url');
    // Telegram posts to the public URL; here a relay to the host's port stands where a gateway would.
    const relay = await startRelay();
    mkdirSync(join(home.path, 'data'));
    new GroupRegistry(join(home.path, 'data', 'registered_groups.json')).register('tg:5', {
      name: 'Dana',
      folder: 'main',
      addedAt: new Date().toISOString(),
    });
    const lines: string[] = [];
    nanoclaw = await startNanoclaw(
      loadConfig({
        NANOCLAW_HOME: home.path,
        NANOCLAW_PORT: '0',
        NANOCLAW_WEB_CHAT: 'false',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: api.url,
        TELEGRAM_WEBHOOK_URL: `${relay.url}/telegram/webhook`,
        TELEGRAM_WEBHOOK_SECRET: secret,
      }),
      { log: createLogger({ write: (line) => lines.push(line), format: 'json' }) },
    );
    relay.target = nanoclaw.url;
    expect(api.calls.filter((call) => call.method === 'setWebhook').map((call) => call.body)).toEqual([
      { url: `${relay.url}/telegram/webhook`, secret_token: secret },
    ]);
    expect(api.polls).toBe(0);

    const forged = {
      update_id: 900,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: 5, type: 'private', first_name: 'Dana' },
        from: { id: 5, is_bot: false, first_name: 'Dana' },
        text: 'forged',
      },
    };
    const post = (headers: Record<string, string>, body: unknown = forged) =>
      fetch(`${nanoclaw?.url}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': `${secret.slice(1)}x` })).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'short' })).status).toBe(401);
    expect(storedTexts('tg:5')).toEqual([]);

    api.pushMessage({ chatId: 5, fromId: 5, firstName: 'Dana', text: 'hello over the webhook' });
    await until(() => api.webhookAnswers.length > 0, 'the delivery');
    // Answered 200 only once stored: the message is there as soon as Telegram has its answer.
    expect(api.webhookAnswers).toEqual([{ updateId: 1, status: 200 }]);
    expect(storedTexts('tg:5')).toContain('hello over the webhook');
    await until(() => api.calls.some((call) => call.method === 'sendMessage'), 'the reply');
    const sent = api.calls.filter((call) => call.method === 'sendMessage');
    expect(sent.map((call) => call.body.chat_id)).toEqual([5]);
    expect(String(sent[0]?.body.text)).toMatch(/^No model is configured/);

    // Telegram sends an update again when it missed our answer: stored once, answered once.
    const again = api.lastUpdate();
    expect((await post({ 'x-telegram-bot-api-secret-token': secret }, again)).status).toBe(200);
    expect(storedTexts('tg:5').filter((text) => text === 'hello over the webhook')).toHaveLength(1);

    await nanoclaw.stop();
    nanoclaw = undefined;
    // The webhook stays set, so the next update can wake a stopped host; the secret was never logged.
    expect(api.calls.some((call) => call.method === 'deleteWebhook')).toBe(false);
    expect(api.polls).toBe(0);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines.join('\n')).toContain('webhook request without the right secret refused');
    await relay.close();
  });

  it('refuses a webhook URL without a secret, or one that does not reach the webhook path', () => {
    const env = { NANOCLAW_HOME: home.path, TELEGRAM_BOT_TOKEN: TOKEN };
    expect(() =>
      loadConfig({ ...env, TELEGRAM_WEBHOOK_URL: 'https://gw.example/nanoclaw/a/telegram/webhook' }),
    ).toThrow('TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET');
    expect(() =>
      loadConfig({
        ...env,
        TELEGRAM_WEBHOOK_URL: 'https://gw.example/hook',
        TELEGRAM_WEBHOOK_SECRET: 'a'.repeat(32),
      }),
    ).toThrow(
      "TELEGRAM_WEBHOOK_URL (environment) must be the public https:// URL that reaches this NanoClaw's /telegram/webhook",
    );
    expect(() =>
      loadConfig({
        ...env,
        TELEGRAM_WEBHOOK_URL: 'https://gw.example/telegram/webhook',
        TELEGRAM_WEBHOOK_SECRET: 'too-short',
      }),
    ).toThrow('TELEGRAM_WEBHOOK_SECRET (environment) must be 32 to 256 letters, digits, _ or -');
  });
});

/** The texts stored for a chat, oldest first. */
function storedTexts(jid: string): string[] {
  const path = nanoclaw?.layout.databasePath as string;
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare('SELECT text FROM messages WHERE chat_jid = ? ORDER BY received_at')
      .all(jid)
      .map((row) => String(row.text));
  } finally {
    db.close();
  }
}

/** Forwards every request to `target` under a public host name, as a front door before the host would. */
interface Relay {
  url: string;
  target: string;
  close(): Promise<void>;
}

async function startRelay(): Promise<Relay> {
  const relay: Relay = { url: '', target: '', close: async () => undefined };
  const server = createServer((incoming, answer) => {
    const outgoing = httpRequest(
      `${relay.target}${incoming.url}`,
      { method: incoming.method, headers: { ...incoming.headers, host: 'tenant.gateway.example' } },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      },
    );
    outgoing.on('error', () => answer.writeHead(502).end());
    incoming.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return relay;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

describe('Telegram media', () => {
  async function startWithMain() {
    mkdirSync(join(home.path, 'data'));
    new GroupRegistry(join(home.path, 'data', 'registered_groups.json')).register('tg:5', {
      name: 'Dana',
      folder: 'main',
      addedAt: new Date().toISOString(),
    });
    nanoclaw = await startNanoclaw(
      loadConfig({
        NANOCLAW_HOME: home.path,
        NANOCLAW_PORT: '0',
        NANOCLAW_WEB_CHAT: 'false',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: api.url,
      }),
      { log: silentLogger },
    );
    return nanoclaw;
  }
  const files = () => join(home.path, 'groups', 'main', 'files');
  const stored = (jid: string) => {
    const db = new DatabaseSync(nanoclaw?.layout.databasePath as string, { readOnly: true });
    try {
      return db
        .prepare(
          'SELECT text, attachments FROM messages WHERE chat_jid = ? AND from_assistant = 0 ORDER BY received_at',
        )
        .all(jid)
        .map((row) => ({ text: row.text, attachments: JSON.parse(String(row.attachments ?? '[]')) }));
    } finally {
      db.close();
    }
  };

  it('keeps photos (the largest size) and documents in the group folder, fetched as the Bot API serves files', async () => {
    await startWithMain();
    api.pushMessage({ chatId: 5, fromId: 5, firstName: 'Dana', caption: 'my cat', photo: PNG });
    api.pushMessage({
      chatId: 5,
      fromId: 5,
      firstName: 'Dana',
      document: {
        name: '../../report.pdf',
        mimeType: 'application/pdf',
        bytes: Buffer.from('%PDF-1.7 a report'),
      },
    });
    await until(() => stored('tg:5').length === 2, 'both messages');
    const [photo, document] = stored('tg:5');
    expect(photo).toEqual({
      text: 'my cat',
      attachments: [{ name: expect.stringMatching(/^photo-\d+\.jpg$/), type: 'image/png', size: PNG.length }],
    });
    expect(document).toEqual({
      text: '',
      attachments: [{ name: '_.._report.pdf', type: 'application/pdf', size: 17 }],
    });
    expect(readFileSync(join(files(), photo?.attachments[0].name))).toEqual(PNG);
    expect(readFileSync(join(files(), '_.._report.pdf'), 'utf8')).toBe('%PDF-1.7 a report');
    // getFile then the file's own path: the photo's large size, never its thumbnail.
    expect(api.calls.filter((call) => call.method === 'getFile').map((call) => call.body.file_id)).toEqual([
      'file-id-2',
      'file-id-3',
    ]);
    expect(api.downloads).toEqual([
      `/file/bot${TOKEN}/photos/file_2.jpg`,
      `/file/bot${TOKEN}/documents/file_3`,
    ]);
  });

  it('does not fetch a file announced over the limit, and keeps the message with a note saying so', async () => {
    await startWithMain();
    api.pushMessage({
      chatId: 5,
      fromId: 5,
      firstName: 'Dana',
      caption: 'the whole disk',
      document: { name: 'disk.iso', mimeType: 'application/octet-stream', bytes: Buffer.from('x') },
      fileSize: 20_000_000,
    });
    await until(() => stored('tg:5').length === 1, 'the message');
    expect(stored('tg:5')).toEqual([
      {
        text: 'the whole disk\n[disk.iso was not kept: 20 MB, more than the 10 MB a file may have]',
        attachments: [],
      },
    ]);
    expect(api.downloads).toEqual([]);
  });

  it("sends the agent's image as a photo, other files as documents, and a long caption on in text", async () => {
    const host = await startWithMain();
    const group = host.layout.groupDir('main');
    writeFileSync(join(group, 'chart.png'), PNG);
    const request = (name: string, body: unknown) => {
      const dir = join(host.layout.ipcDir('main'), 'messages');
      writeFileSync(join(dir, `${name}.json.tmp`), JSON.stringify(body));
      renameSync(join(dir, `${name}.json.tmp`), join(dir, `${name}.json`));
    };
    request('1', { type: 'file', chatJid: 'tg:5', path: 'chart.png', caption: 'the chart' });
    await until(() => api.calls.some((call) => call.method === 'sendPhoto'), 'the photo');
    const photo = api.calls.find((call) => call.method === 'sendPhoto');
    expect(photo?.body).toEqual({
      chat_id: '5',
      caption: 'the chart',
      photo: { filename: 'chart.png', bytes: PNG },
    });

    const channel = new TelegramChannel({
      token: TOKEN,
      apiRoot: api.url,
      webhook: undefined,
      assistantName: 'Andy',
      log: silentLogger,
    });
    await channel.connect();
    const caption = `${'c'.repeat(1500)}`;
    await channel.sendFile(
      'tg:5',
      { name: 'notes.txt', type: 'application/octet-stream', bytes: Buffer.from('hi') },
      caption,
    );
    await channel.disconnect();
    const sent = api.calls.slice(api.calls.indexOf(photo as (typeof api.calls)[number]) + 1);
    expect(
      sent
        .filter((call) => call.method === 'sendDocument' || call.method === 'sendMessage')
        .map((call) => [call.method, String(call.body.caption ?? call.body.text).length, call.body.document]),
    ).toEqual([
      ['sendDocument', 1024, { filename: 'notes.txt', bytes: Buffer.from('hi') }],
      ['sendMessage', 476, undefined],
    ]);
  });
});
