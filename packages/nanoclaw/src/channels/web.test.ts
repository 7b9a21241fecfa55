/**
 * The web chat on a real host (no model configured, so no agent container): the page in Debian's
 * Chromium, and the JSON API beside it.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { launchBrowser } from '../testing/browser.ts';
import { tempHome } from '../testing/temp-home.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
let browser: Browser;

beforeAll(async () => {
  home = await tempHome();
  nanoclaw = await startNanoclaw(
    loadConfig({ NANOCLAW_HOME: home.path, NANOCLAW_PORT: '0', ASSISTANT_NAME: 'Andy' }),
    {
      log: silentLogger,
    },
  );
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await nanoclaw?.stop();
  await home.remove();
});

const post = (chat: string, body: unknown, type = 'application/json') =>
  fetch(`${nanoclaw.url}/api/chats/${chat}/messages`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('web chat page', () => {
  it('sends a message and shows the reply live, on a phone-sized screen', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${nanoclaw.url}/`);
    await page.fill('#sender', 'Alice');
    await page.fill('#text', 'hello there');
    await page.click('button');
    const mine = page.locator('.msg.mine .text');
    await expect.poll(() => mine.allTextContents()).toEqual(['hello there']);
    const replies = page.locator('.msg[data-from-assistant="true"] .text');
    await expect.poll(() => replies.count(), { timeout: 5000 }).toBe(1);
    expect(await replies.first().textContent()).toContain('No model is configured');
    expect(await page.locator('.msg[data-from-assistant="true"] .meta').first().textContent()).toContain(
      'Andy',
    );
    // The form stays usable on the narrow screen: the input is wider than the button.
    const input = await page.locator('#text').boundingBox();
    expect(input?.width).toBeGreaterThan(150);
    await page.close();
  });

  it('shows the chat history to a second page, and messages posted elsewhere as they come', async () => {
    const page = await browser.newPage();
    await page.goto(`${nanoclaw.url}/?chat=main`);
    await expect.poll(() => page.locator('.msg').count()).toBeGreaterThanOrEqual(2);
    const before = await page.locator('.msg').count();
    const response = await post('main', { sender: 'Bob', text: 'from the API' });
    expect(response.status).toBe(201);
    await expect.poll(() => page.locator('.msg .text').allTextContents()).toContain('from the API');
    await expect.poll(() => page.locator('.msg').count()).toBe(before + 2);
    await page.close();
  });

  it('says so when the chat is not registered', async () => {
    const page = await browser.newPage();
    await page.goto(`${nanoclaw.url}/?chat=elsewhere`);
    await expect
      .poll(() => page.locator('#error').textContent())
      .toContain('chat "elsewhere" (web:elsewhere) is not registered');
    await page.close();
  });
});

describe('web chat API', () => {
  it('lists messages as [{id, sender, text, timestamp, from_assistant, attachments}]', async () => {
    const created = await (await post('main', { sender: 'Carol', text: 'list me' })).json();
    const list = (await (await fetch(`${nanoclaw.url}/api/chats/main/messages`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(list).toContainEqual(created);
    for (const message of list) {
      expect(Object.keys(message).sort()).toEqual([
        'attachments',
        'from_assistant',
        'id',
        'sender',
        'text',
        'timestamp',
      ]);
      expect(new Date(message.timestamp as string).toISOString()).toBe(message.timestamp);
    }
  });

  it('rejects bad requests, naming what is wrong', async () => {
    const cases: Array<[Response, number, string]> = [
      [await post('main', { text: 'no sender' }), 400, 'body.sender: expected a name of 1 to 64 characters'],
      [await post('main', { sender: 'A', text: '  ' }), 400, 'body.text: expected non-empty text'],
      [
        await post('main', { sender: 'A', text: 'x'.repeat(32_001) }),
        400,
        'body.text: longer than 32000 characters',
      ],
      [await post('main', '{"sender":', 'application/json'), 400, 'body: not valid JSON'],
      [await post('main', '[1]'), 400, 'body: expected a JSON object'],
      [await post('main', 'sender=A', 'application/x-www-form-urlencoded'), 415, 'body: send JSON'],
      [await post('Main%20Chat', { sender: 'A', text: 'x' }), 400, 'chat "Main Chat": use lowercase letters'],
      [await post('nobody', { sender: 'A', text: 'x' }), 404, 'chat "nobody" (web:nobody) is not registered'],
      [
        await fetch(`${nanoclaw.url}/api/chats/main/messages`, { method: 'DELETE' }),
        405,
        'DELETE is not allowed',
      ],
      [await fetch(`${nanoclaw.url}/nothing-here`), 404, 'nothing at /nothing-here'],
    ];
    for (const [response, status, message] of cases) {
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(message);
    }
  });

  it('reports health: channel states, queue and the last message time', async () => {
    const response = await fetch(`${nanoclaw.url}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      channels: { web: { state: 'connected' } },
      queue: { depth: 0, running: 0 },
    });
    expect(typeof body.last_message_at).toBe('string');
  });
});

describe('web chat with a token (NANOCLAW_WEB_TOKEN)', () => {
  const token = 'a-long-enough-test-token';

  it('asks for the token, takes it once in the address and then from a cookie, and leaves /health open', async () => {
    const tokenHome = await tempHome();
    const guarded = await startNanoclaw(
      loadConfig({ NANOCLAW_HOME: tokenHome.path, NANOCLAW_PORT: '0', NANOCLAW_WEB_TOKEN: token }),
      { log: silentLogger },
    );
    try {
      expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
      const refused = await fetch(`${guarded.url}/api/chats/main/messages`);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
        'needs its token',
      );
      expect(
        (
          await fetch(`${guarded.url}/api/chats/main/messages`, {
            headers: { authorization: 'Bearer wrong-token-here' },
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await fetch(`${guarded.url}/api/chats/main/messages`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
      ).toBe(200);

      const page = await browser.newPage();
      await page.goto(`${guarded.url}/?chat=main&token=${token}`);
      expect(page.url()).toBe(`${guarded.url}/?chat=main`);
      await page.fill('#text', 'behind a token');
      await page.click('button');
      const replies = page.locator('.msg[data-from-assistant="true"] .text');
      await expect.poll(() => replies.count(), { timeout: 5000 }).toBe(1);
      await page.close();

      const stranger = await browser.newPage();
      const response = await stranger.goto(`${guarded.url}/`);
      expect(response?.status()).toBe(401);
      await stranger.close();
    } finally {
      await guarded.stop();
      await tokenHome.remove();
    }
  });
});
