/**
 * The web chat's front door on a real host (no model): the Host check before anything else (DNS
 * rebinding), the token cookie's Secure flag, and the chat that a hosted NanoClaw keeps closed without a
 * token.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLogger, silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { type HttpAnswer, readAnswer } from '../testing/http-answer.ts';
import { tempHome } from '../testing/temp-home.ts';

const TOKEN = 'front-door-test-token-0123';
const homes: Array<Awaited<ReturnType<typeof tempHome>>> = [];
const hosts: Nanoclaw[] = [];

async function host(env: Record<string, string>, log = silentLogger): Promise<Nanoclaw> {
  const home = await tempHome();
  homes.push(home);
  const started = await startNanoclaw(loadConfig({ NANOCLAW_HOME: home.path, NANOCLAW_PORT: '0', ...env }), {
    log,
  });
  hosts.push(started);
  return started;
}

/** A request with headers fetch() does not let a caller set (Host). */
function get(base: string, path: string, headers: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${base}${path}`, { headers }, (response) =>
      readAnswer(response).then(resolve, reject),
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

afterAll(async () => {
  for (const started of hosts) await started.stop();
  for (const home of homes) await home.remove();
});

describe('the Host check', () => {
  let guarded: Nanoclaw;
  beforeAll(async () => {
    guarded = await host({ NANOCLAW_WEB_TOKEN: TOKEN, NANOCLAW_WEB_HOSTS: 'chat.example.com' });
  });

  it('answers a rebound name with a plain 421 before any auth or content', async () => {
    for (const path of ['/', `/?token=${TOKEN}`, '/api/chats/main/messages', '/api/status']) {
      const answer = await get(guarded.url, path, {
        host: 'evil.example:3847',
        authorization: `Bearer ${TOKEN}`,
      });
      expect(answer.status, path).toBe(421);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.body).toContain('this NanoClaw is not served as "evil.example:3847"');
      expect(answer.body).not.toContain('<html');
    }
  });

  it('serves loopback names, IP addresses and the listed names, on any port', async () => {
    const port = new URL(guarded.url).port;
    for (const name of [`127.0.0.1:${port}`, 'localhost:49999', 'chat.example.com', '[::1]:1']) {
      const answer = await get(guarded.url, '/api/chats/main/messages', {
        host: name,
        authorization: `Bearer ${TOKEN}`,
      });
      expect(answer.status, name).toBe(200);
    }
    // The token is still asked for after the Host check.
    expect((await get(guarded.url, '/api/chats/main/messages', { host: `localhost:${port}` })).status).toBe(
      401,
    );
  });

  it('leaves /health open to health checks, which may send no Host at all', async () => {
    expect((await get(guarded.url, '/health', { host: 'evil.example' })).status).toBe(200);
    const { hostname, port } = new URL(guarded.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.end('GET /health HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect((await get(guarded.url, '/', {})).status).toBe(401);
  });

  it("shows an anonymous /health the status only; the tenant's usage and messages need the token", async () => {
    const anonymous = JSON.parse((await get(guarded.url, '/health', {})).body);
    expect(Object.keys(anonymous).sort()).toEqual(['channels', 'status']);
    expect(anonymous.channels.web).toEqual({ state: 'connected' });
    const detailed = JSON.parse(
      (await get(guarded.url, '/health', { authorization: `Bearer ${TOKEN}` })).body,
    );
    expect(detailed).toHaveProperty('queue');
    expect(detailed).toHaveProperty('last_message_at');
  });
});

describe('the token cookie', () => {
  const cookieOf = (answer: HttpAnswer) => String(answer.headers['set-cookie'] ?? '');

  it('is Secure when a trusted proxy says the request came over HTTPS, and only then', async () => {
    const behindProxy = await host({ NANOCLAW_WEB_TOKEN: TOKEN, NANOCLAW_TRUSTED_PROXIES: '127.0.0.0/8' });
    const secure = await get(behindProxy.url, `/?token=${TOKEN}`, { 'x-forwarded-proto': 'https' });
    expect(secure.status).toBe(303);
    expect(cookieOf(secure)).toMatch(/^nanoclaw_token=[^;]+; HttpOnly; SameSite=Strict; Secure$/);
    const plain = await get(behindProxy.url, `/?token=${TOKEN}`, {});
    expect(cookieOf(plain)).toBe(`nanoclaw_token=${TOKEN}; HttpOnly; SameSite=Strict`);
    const downgraded = await get(behindProxy.url, `/?token=${TOKEN}`, { 'x-forwarded-proto': 'http' });
    expect(cookieOf(downgraded)).not.toContain('Secure');
  });

  it('believes X-Forwarded-Proto from no one else', async () => {
    const direct = await host({ NANOCLAW_WEB_TOKEN: TOKEN, NANOCLAW_TRUSTED_PROXIES: '10.0.0.0/8' });
    const answer = await get(direct.url, `/?token=${TOKEN}`, { 'x-forwarded-proto': 'https' });
    expect(answer.status).toBe(303);
    expect(cookieOf(answer)).not.toContain('Secure');
  });
});

describe('a hosted NanoClaw without a web token', () => {
  it('keeps the chat closed and says why on the page, in the API and in its log', async () => {
    const lines: string[] = [];
    const closed = await host(
      { BOILERHOUSE_TENANT: 'alice' },
      createLogger({ write: (line) => lines.push(line), format: 'json' }),
    );
    const page = await get(closed.url, '/', {});
    expect(page.status).toBe(503);
    expect(page.body).toContain('This chat is closed');
    expect(page.body).toContain('NANOCLAW_WEB_TOKEN is not set');
    expect(page.body).not.toContain('<form');
    const api = await get(closed.url, '/api/chats/main/messages', {});
    expect(api.status).toBe(503);
    expect(JSON.parse(api.body).error.message).toContain('The web chat is closed');
    const post = await fetch(`${closed.url}/api/chats/main/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sender: 'Mallory', text: 'let me in' }),
    });
    expect(post.status).toBe(503);
    const logged = lines.map((line) => JSON.parse(line)).find((record) => record.level === 'error');
    expect(logged?.message).toContain('The web chat is closed');
    const health = (await (await fetch(`${closed.url}/health`)).json()) as {
      channels: Record<string, { state: string; detail?: string }>;
    };
    expect(health.channels.web?.state).toBe('disconnected');
    expect(health.channels.web?.detail).toContain('NANOCLAW_WEB_TOKEN');
  });

  it('serves the chat, behind its token, once the token is set; NANOCLAW_WEB_REQUIRE_TOKEN closes it anywhere', async () => {
    const hosted = await host({ BOILERHOUSE_TENANT: 'alice', NANOCLAW_WEB_TOKEN: TOKEN });
    expect((await get(hosted.url, '/', {})).status).toBe(401);
    const page = await get(hosted.url, '/', { authorization: `Bearer ${TOKEN}` });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<form');
    const required = await host({ NANOCLAW_WEB_REQUIRE_TOKEN: 'true' });
    expect((await get(required.url, '/', {})).status).toBe(503);
  });
});
