/** Who may call what: the admin key, scoped tokens (made, used, revoked, expired), and auth off. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { startEchoApi, type TestApi } from '../testing/api.ts';
import type { Harness } from '../testing/harness.ts';
import { adminKey, isLoopback } from './auth.ts';

let harness: Harness;
let api: TestApi;

beforeAll(async () => {
  ({ harness, api } = await startEchoApi());
});

afterAll(async () => {
  await harness.cleanup();
});

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

async function makeToken(scopes: string[], extra: Record<string, unknown> = {}) {
  const response = await api.request('/api/v1/tokens', {
    method: 'POST',
    body: JSON.stringify({ name: `test ${scopes.join(' ')}`, scopes, ...extra }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; token: string; scopes: string[] };
}

describe('401: no valid credentials', () => {
  test.each([
    ['missing', {}, 'this route needs a token: send "Authorization: Bearer <token>"'],
    [
      'not bearer',
      { headers: { Authorization: 'Basic YWxpY2U6c2VjcmV0' } },
      'the Authorization header must be "Bearer <token>"',
    ],
    ['wrong key', bearer('not-the-admin-key-at-all'), 'the token is not valid (unknown, wrong or revoked)'],
    [
      'token-shaped but unknown',
      bearer(`bh_000000000000_${'A'.repeat(43)}`),
      'the token is not valid (unknown, wrong or revoked)',
    ],
  ])('%s', async (_, init, message) => {
    const response = await api.raw('/api/v1/pools', init);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect((await response.json()).error).toMatchObject({ code: 'unauthorized', message });
  });

  test('health needs no token', async () => {
    expect((await api.raw('/api/v1/health')).status).toBe(200);
  });

  test('a token with the right id but a wrong secret is refused', async () => {
    const { token } = await makeToken(['read']);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await api.raw('/api/v1/pools', bearer(forged))).status).toBe(401);
  });
});

describe('scoped tokens', () => {
  test('a read token reads but cannot claim (403 names the scope); a claim token claims', async () => {
    const reader = await makeToken(['read']);
    expect((await api.raw('/api/v1/pools', bearer(reader.token))).status).toBe(200);
    const refused = await api.raw('/api/v1/tenants/alice/claim', {
      method: 'POST',
      headers: { Authorization: `Bearer ${reader.token}`, 'Content-Type': 'application/json' },
      body: '{"workload": "echo"}',
    });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('needs the "tenants:claim" scope'),
    });

    const claimer = await makeToken(['tenants:claim']);
    const claim = await api.raw('/api/v1/tenants/alice/claim', {
      method: 'POST',
      headers: { Authorization: `Bearer ${claimer.token}`, 'Content-Type': 'application/json' },
      body: '{"workload": "echo"}',
    });
    expect(claim.status).toBe(200);
    expect((await api.raw('/api/v1/pools', bearer(claimer.token))).status).toBe(403);
    expect((await api.raw('/api/v1/tokens', bearer(claimer.token))).status).toBe(403);
  });

  test('tokens are listed without their secrets, and a revoked token stops working at once', async () => {
    const made = await makeToken(['read']);
    expect((await api.raw('/api/v1/pools', bearer(made.token))).status).toBe(200);
    const listed = await (await api.request('/api/v1/tokens')).json();
    const entry = listed.tokens.find((token: { id: string }) => token.id === made.id);
    expect(entry).toMatchObject({ id: made.id, scopes: ['read'], last_used_at: expect.any(String) });
    expect(JSON.stringify(listed)).not.toContain(made.token.slice(-43));

    expect((await api.request(`/api/v1/tokens/${made.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api.raw('/api/v1/pools', bearer(made.token))).status).toBe(401);
    expect((await api.request(`/api/v1/tokens/${made.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  test('the database keeps a hash of each token, never the token', async () => {
    const made = await makeToken(['read']);
    const rows = harness.db.prepare('SELECT * FROM api_tokens').all();
    expect(JSON.stringify(rows)).not.toContain(made.token.slice(-43));
  });

  test('an expired token is refused', async () => {
    const made = await makeToken(['read'], { expires_in_seconds: 60 });
    harness.db.prepare('UPDATE api_tokens SET expires_at = ? WHERE id = ?').run(Date.now() - 1, made.id);
    const response = await api.raw('/api/v1/pools', bearer(made.token));
    expect(response.status).toBe(401);
    expect((await response.json()).error.message).toBe(`the token ${made.id} expired`);
  });

  test('bad token requests name the field', async () => {
    const response = await api.request('/api/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scopes: ['everything'] }),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/^body\.scopes\.0: must be one of "read", /);
  });
});

describe('the admin key', () => {
  test('is made once when none is given, and only its hash is kept', async () => {
    const db = openDatabase(':memory:');
    const unshown = adminKey(db, {}, '127.0.0.1');
    // A start that failed before serving never kept it: the next start makes (and shows) another.
    const first = adminKey(db, {}, '127.0.0.1');
    expect(first.generated).toMatch(/^bh_admin_[A-Za-z0-9_-]{43}$/);
    expect(first.generated).not.toBe(unshown.generated);
    first.keep?.();
    const second = adminKey(db, {}, '127.0.0.1');
    expect(second.generated).toBeUndefined();
    expect(second.hash?.equals(first.hash as Buffer)).toBe(true);
    expect(JSON.stringify(db.prepare('SELECT * FROM meta').all())).not.toContain(first.generated);
    db.close();
  });

  test('comes from BOILERHOUSE_API_KEY, which must be long enough', () => {
    const db = openDatabase(':memory:');
    expect(adminKey(db, { BOILERHOUSE_API_KEY: 'k'.repeat(32) }, '0.0.0.0').generated).toBeUndefined();
    expect(() => adminKey(db, { BOILERHOUSE_API_KEY: 'short' }, '127.0.0.1')).toThrow(
      'BOILERHOUSE_API_KEY must be at least 16 characters, without spaces',
    );
    db.close();
  });

  test('auth off is refused unless the API listens on loopback only', () => {
    const db = openDatabase(':memory:');
    expect(adminKey(db, { BOILERHOUSE_AUTH: 'off' }, '127.0.0.1').hash).toBeUndefined();
    expect(adminKey(db, { BOILERHOUSE_AUTH: 'off' }, '::1').hash).toBeUndefined();
    for (const host of ['0.0.0.0', '::', '192.168.1.4']) {
      expect(() => adminKey(db, { BOILERHOUSE_AUTH: 'off' }, host)).toThrow(
        /BOILERHOUSE_AUTH=off is refused/,
      );
    }
    expect(() => adminKey(db, { BOILERHOUSE_AUTH: 'maybe' }, '127.0.0.1')).toThrow(/must be "on" or "off"/);
    expect([isLoopback('127.0.0.53'), isLoopback('localhost'), isLoopback('10.0.0.1')]).toEqual([
      true,
      true,
      false,
    ]);
    db.close();
  });
});
