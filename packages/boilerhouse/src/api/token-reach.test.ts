/**
 * Tokens limited to some tenants and workloads (the attack: a `tenants:claim` token claimed any tenant and
 * got its endpoint). A real daemon on the real engine: alice and bob hold echo instances; a token limited
 * to alice acts on and sees only alice, one limited to echo only echo.
 */
import { readSse } from '@boilerhouse/kit/sse';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashSecret } from '../db/tokens.ts';
import { silentLogger } from '../log.ts';
import { Metrics } from '../metrics/metrics.ts';
import { startEchoApi, type TestApi } from '../testing/api.ts';
import { counter, echoWorkload, type Harness } from '../testing/harness.ts';
import { createApp } from './app.ts';
import { Auth } from './auth.ts';

let harness: Harness;
let api: TestApi;
let aliceToken: string;
let bobInstance: string;
let aliceInstance: string;

const EVERY_SCOPE_BUT_ADMIN = ['read', 'tenants:claim', 'tenants:write', 'workloads:write'];

async function makeToken(body: Record<string, unknown>) {
  const response = await api.request('/api/v1/tokens', { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; token: string };
}

/** As the API's `request`, with `token` instead of the admin key. */
function as(token: string, path: string, init: RequestInit = {}) {
  return api.request(path, { ...init, headers: { Authorization: `Bearer ${token}` } });
}

beforeAll(async () => {
  ({ harness, api } = await startEchoApi());
  const bob = await api.request('/api/v1/tenants/bob/claim', { method: 'POST', body: '{"workload":"echo"}' });
  expect(bob.status).toBe(200);
  bobInstance = (await bob.json()).instance.id;
  ({ token: aliceToken } = await makeToken({
    name: 'alice front end',
    scopes: EVERY_SCOPE_BUT_ADMIN,
    tenants: ['alice'],
  }));
});

afterAll(async () => {
  await harness.cleanup();
});

/** Every route that names a tenant, as a request for `tenant`. */
function tenantRequests(tenant: string): [string, string, RequestInit][] {
  const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });
  const base = `/api/v1/tenants/${tenant}`;
  return [
    ['claim', `${base}/claim`, post({ workload: 'echo' })],
    ['release', `${base}/release`, post({ workload: 'echo' })],
    ['get', base, {}],
    ['secrets put', `${base}/secrets`, { method: 'PUT', body: '{"workload":"echo","values":{"A":"1"}}' }],
    ['secrets patch', `${base}/secrets`, { method: 'PATCH', body: '{"workload":"echo","remove":["A"]}' }],
    ['secrets get', `${base}/secrets`, {}],
    ['secrets delete', `${base}/secrets?workload=echo`, { method: 'DELETE' }],
    ['snapshots', `${base}/snapshots?workload=echo`, {}],
    ['restore', `${base}/snapshots/1/restore`, post({ workload: 'echo' })],
    ['sync', `${base}/sync`, post({ workload: 'echo', direction: 'upload' })],
  ];
}

describe('a token limited to alice', () => {
  test('claims alice and reaches her endpoint', async () => {
    const claim = await as(aliceToken, '/api/v1/tenants/alice/claim', {
      method: 'POST',
      body: '{"workload":"echo"}',
    });
    expect(claim.status).toBe(200);
    const body = await claim.json();
    aliceInstance = body.instance.id;
    expect(await counter(body.endpoints[0].url)).toBe(1);
  });

  test.each(tenantRequests('bob'))('is refused for bob (%s), 403 naming the limit', async (_, path, init) => {
    const response = await as(aliceToken, path, init);
    expect(response.status).toBe(403);
    expect((await response.json()).error).toMatchObject({
      code: 'forbidden',
      message: 'path.tenant: this token is limited to tenants alice, not "bob"',
    });
  });

  test('is refused for bob in the same words whether bob exists or not', async () => {
    const nobody = await as(aliceToken, '/api/v1/tenants/nobody-at-all');
    expect(nobody.status).toBe(403);
    expect((await nobody.json()).error.message).toBe(
      'path.tenant: this token is limited to tenants alice, not "nobody-at-all"',
    );
  });

  test('sees only alice in GET /tenants and /instances, where the admin key sees bob too', async () => {
    const tenants = async (token?: string) => {
      const response =
        token === undefined ? await api.request('/api/v1/tenants') : await as(token, '/api/v1/tenants');
      return ((await response.json()).tenants as { tenant: string }[]).map((entry) => entry.tenant);
    };
    expect(await tenants()).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(await tenants(aliceToken)).toEqual(['alice']);
    const instances = await (await as(aliceToken, '/api/v1/instances')).json();
    expect(instances.instances.map((instance: { id: string }) => instance.id)).toEqual([aliceInstance]);
  });

  test("cannot read bob's events, in the log or the stream", async () => {
    const all = (await (await api.request('/api/v1/events?limit=1000')).json()).events as {
      tenant: string;
    }[];
    expect(all.some((event) => event.tenant === 'bob')).toBe(true);
    const seen = (await (await as(aliceToken, '/api/v1/events?limit=1000')).json()).events as {
      tenant: string | null;
      type: string;
    }[];
    expect(seen.some((event) => event.type === 'instance.claimed')).toBe(true);
    expect(seen.filter((event) => event.tenant !== 'alice')).toEqual([]);

    // The stream replays from the start; an event recorded last for alice marks the end of the replay.
    const stream = await as(aliceToken, '/api/v1/events/stream?after=0');
    expect(stream.status).toBe(200);
    harness.boilerhouse.activity.record({ type: 'pool.warning', message: 'for bob', tenant: 'bob' });
    harness.boilerhouse.activity.record({ type: 'pool.warning', message: 'end', tenant: 'alice' });
    const streamed = await readUntil(stream, 'end');
    expect(streamed.length).toBeGreaterThan(1);
    expect(streamed.filter((event) => event.tenant !== 'alice')).toEqual([]);
  });

  test("answers for bob's instance as for one that does not exist: no logs, no destroy", async () => {
    const unknown = await as(aliceToken, '/api/v1/instances/abcdef012345/logs');
    const bobs = await as(aliceToken, `/api/v1/instances/${bobInstance}/logs`);
    expect([unknown.status, bobs.status]).toEqual([404, 404]);
    const message = async (response: Response, id: string) =>
      ((await response.json()) as { error: { message: string } }).error.message.replace(id, 'ID');
    expect(await message(bobs, bobInstance)).toBe("no instance ID within this token's reach (tenants alice)");
    expect(await message(unknown, 'abcdef012345')).toBe(
      "no instance ID within this token's reach (tenants alice)",
    );

    const destroy = await as(aliceToken, `/api/v1/instances/${bobInstance}`, { method: 'DELETE' });
    expect(destroy.status).toBe(404);
    const bob = await (await api.request('/api/v1/tenants/bob')).json();
    expect(bob.instances.map((instance: { id: string }) => instance.id)).toEqual([bobInstance]);
    expect((await as(aliceToken, `/api/v1/instances/${aliceInstance}/logs?tail=5`)).status).toBe(200);
  });

  test('cannot change a workload for every tenant, nor reach metrics or tokens; reads pools', async () => {
    const drain = await as(aliceToken, '/api/v1/pools/echo/drain', { method: 'POST' });
    expect(drain.status).toBe(403);
    expect((await drain.json()).error.message).toBe(
      'this token is limited to tenants alice; this route changes the workload for every tenant',
    );
    expect((await as(aliceToken, '/api/v1/workloads/echo', { method: 'DELETE' })).status).toBe(403);
    expect((await as(aliceToken, '/api/v1/pools/echo')).status).toBe(200);
    expect((await as(aliceToken, '/api/v1/tokens')).status).toBe(403);
  });

  test('is refused the metrics, which are not filtered by tenant', async () => {
    const metrics = new Metrics(harness.boilerhouse);
    const key = 'metrics-test-admin-key-0123456789';
    const app = createApp(harness.boilerhouse, {
      auth: new Auth(harness.db, hashSecret(key)),
      db: harness.db,
      log: silentLogger,
      metrics,
    });
    const scrape = (token: string) =>
      app.request('/metrics', { headers: { Authorization: `Bearer ${token}` } });
    try {
      expect((await scrape(key)).status).toBe(200);
      const refused = await scrape(aliceToken);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
        'this token is limited to tenants alice; this route is only for tokens without a limit',
      );
    } finally {
      metrics.close();
    }
  });

  // Last: these release alice and restore a save, which destroys her instance.
  test.each(tenantRequests('alice'))('is let through for alice (%s)', async (_, path, init) => {
    expect((await as(aliceToken, path, init)).status).not.toBe(403);
  });
});

describe('a token limited to the workload echo', () => {
  let echoToken: string;

  beforeAll(async () => {
    const vault = await echoWorkload({ 'id: echo': 'id: vault', 'min_idle: 2': 'min_idle: 0' });
    const put = await api.request('/api/v1/workloads/vault', {
      method: 'PUT',
      body: vault,
      headers: { 'Content-Type': 'application/yaml' },
    });
    expect(put.status).toBe(200);
    ({ token: echoToken } = await makeToken({
      name: 'echo ops',
      scopes: EVERY_SCOPE_BUT_ADMIN,
      workloads: ['echo'],
    }));
  });

  test.each([
    [
      'claim',
      '/api/v1/tenants/carol/claim',
      { method: 'POST', body: '{"workload":"vault"}' },
      'body.workload',
    ],
    ['snapshots', '/api/v1/tenants/carol/snapshots?workload=vault', {}, 'query.workload'],
    ['pool', '/api/v1/pools/vault', {}, 'path.workload'],
    ['scale', '/api/v1/pools/vault/scale', { method: 'POST', body: '{"max_size":3}' }, 'path.workload'],
    ['workload file', '/api/v1/workloads/vault', {}, 'path.id'],
  ])('cannot act on vault (%s), 403 naming the field and the limit', async (_, path, init, field) => {
    const response = await as(echoToken, path, init);
    expect(response.status).toBe(403);
    expect((await response.json()).error.message).toBe(
      `${field}: this token is limited to workloads echo, not "vault"`,
    );
  });

  test('sees only echo in pools, workloads and instances, and every tenant of echo', async () => {
    const pools = (await (await as(echoToken, '/api/v1/pools')).json()).pools;
    expect(pools.map((pool: { workload: string }) => pool.workload)).toEqual(['echo']);
    const workloads = (await (await as(echoToken, '/api/v1/workloads')).json()).workloads;
    expect(workloads.map((workload: { id: string }) => workload.id)).toEqual(['echo']);
    // Every tenant holds echo instances only, so the token sees what the admin key sees.
    const tenants = (await (await as(echoToken, '/api/v1/tenants')).json()).tenants;
    expect(tenants).toEqual((await (await api.request('/api/v1/tenants')).json()).tenants);
    expect(tenants.map((entry: { tenant: string }) => entry.tenant)).toContain('bob');
    const events = (await (await as(echoToken, '/api/v1/events?limit=1000')).json()).events;
    expect(events.filter((event: { workload: string | null }) => event.workload !== 'echo')).toEqual([]);
  });
});

describe('making limited tokens', () => {
  test('admin cannot be limited: 400 naming the field', async () => {
    const response = await api.request('/api/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scopes: ['admin'], tenants: ['alice'], workloads: ['echo'] }),
    });
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.message).toBe(
      'body.tenants: cannot limit a token with the "admin" scope (admin reaches everything, tokens included)',
    );
    expect(error.details.map((problem: { path: string }) => problem.path)).toEqual([
      'body.tenants',
      'body.workloads',
    ]);
  });

  test('bad ids and empty limits are refused, naming the field', async () => {
    const made = async (extra: Record<string, unknown>) => {
      const response = await api.request('/api/v1/tokens', {
        method: 'POST',
        body: JSON.stringify({ name: 'x', scopes: ['read'], ...extra }),
      });
      expect(response.status).toBe(400);
      return (await response.json()).error.message as string;
    };
    expect(await made({ tenants: ['no/slashes'] })).toMatch(/^body\.tenants\.0: must be a tenant id/);
    expect(await made({ workloads: [] })).toMatch(/^body\.workloads: /);
  });

  test('GET /tokens lists each token’s reach; /whoami tells a token its own', async () => {
    const { id, token } = await makeToken({
      name: 'both',
      scopes: ['read'],
      tenants: ['alice'],
      workloads: ['echo'],
    });
    const { id: plain } = await makeToken({ name: 'plain', scopes: ['read'] });
    const tokens = (await (await api.request('/api/v1/tokens')).json()).tokens as { id: string }[];
    expect(tokens.find((entry) => entry.id === id)).toMatchObject({
      tenants: ['alice'],
      workloads: ['echo'],
    });
    expect(tokens.find((entry) => entry.id === plain)).toMatchObject({ tenants: null, workloads: null });
    expect(await (await as(token, '/api/v1/whoami')).json()).toEqual({
      id,
      name: 'both',
      scopes: ['read'],
      tenants: ['alice'],
      workloads: ['echo'],
      expires_at: null,
    });
    expect(await (await api.request('/api/v1/whoami')).json()).toMatchObject({ id: 'admin', tenants: null });
  });

  test('a limited token expires and is revoked as any token is', async () => {
    const expiring = await makeToken({
      name: 'soon',
      scopes: ['read'],
      tenants: ['alice'],
      expires_in_seconds: 60,
    });
    harness.db.prepare('UPDATE api_tokens SET expires_at = ? WHERE id = ?').run(Date.now() - 1, expiring.id);
    const expired = await as(expiring.token, '/api/v1/tenants/alice');
    expect(expired.status).toBe(401);
    expect((await expired.json()).error.message).toBe(`the token ${expiring.id} expired`);

    const revoked = await makeToken({ name: 'gone', scopes: ['read'], tenants: ['alice'] });
    expect((await as(revoked.token, '/api/v1/tenants/alice')).status).toBe(200);
    expect((await api.request(`/api/v1/tokens/${revoked.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await as(revoked.token, '/api/v1/tenants/alice')).status).toBe(401);
  });
});

/** Events of an open stream, up to the one whose message is `last`. */
async function readUntil(
  response: Response,
  last: string,
): Promise<{ tenant: string | null; message: string }[]> {
  const events: { tenant: string | null; message: string }[] = [];
  for await (const message of readSse(response.body as ReadableStream<Uint8Array>)) {
    events.push(JSON.parse(message.data));
    if (events.at(-1)?.message === last) break;
  }
  return events;
}
