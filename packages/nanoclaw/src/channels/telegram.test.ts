/**
 * The Telegram adapter at its boundary: grammY, unchanged, against a local stand-in for the Bot API
 * (TELEGRAM_API_ROOT), inside a real host.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLogger, silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { type BotApi, startBotApi } from '../testing/bot-api.ts';
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

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
