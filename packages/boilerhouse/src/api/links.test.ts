/**
 * Gateway access links through the API (POST/GET/DELETE /api/v1/tenants/{tenant}/links), every answer checked
 * against the OpenAPI document: minted (the secret shown once, in the URL), listed without secrets, revoked
 * (refused at the gateway from the moment the DELETE answers), and kept within a limited token's reach as
 * api/token-reach.test.ts does for the other tenant routes. No instance is started.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callGateway } from '../gateway/testing.ts';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness;
let api: TestApi;
let gateway: string;

async function workload(id: string, gatewayBlock: string | undefined): Promise<string> {
  const text = await echoWorkload({
    'id: echo': `id: ${id}`,
    'path: sinks/echo': `path: sinks/${id}`,
    'min_idle: 2': 'min_idle: 0',
  });
  return gatewayBlock === undefined ? text : `${text}\ngateway:\n${gatewayBlock}`;
}

beforeAll(async () => {
  harness = await startHarness(
    {
      'door.yaml': await workload('door', '  port: 8080\n'),
      'porch.yaml': await workload('porch', '  port: 8080\n'),
      'open.yaml': await workload('open', '  port: 8080\n  auth: none\n'),
      'plain.yaml': await workload('plain', undefined),
    },
    { gateway: { host: '127.0.0.1', port: 0, domain: null } },
  );
  api = testApi(harness);
  gateway = harness.boilerhouse.gateway?.url as string;
});

afterAll(async () => {
  await harness?.cleanup();
});

const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

async function mint(tenant: string, workload: string, as?: string) {
  const response = await api.request(`/api/v1/tenants/${tenant}/links`, {
    ...post({ workload }),
    ...(as === undefined ? {} : { headers: { Authorization: `Bearer ${as}` } }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; workload: string; tenant: string; url: string };
}

async function listed(tenant: string, as?: string): Promise<string[]> {
  const response = await api.request(
    `/api/v1/tenants/${tenant}/links`,
    as === undefined ? {} : { headers: { Authorization: `Bearer ${as}` } },
  );
  expect(response.status).toBe(200);
  return ((await response.json()).links as { id: string }[]).map((link) => link.id);
}

test('a link is minted with its URL shown once, listed without its secret, and revoked', async () => {
  const link = await mint('ana+1@example.org', 'door');
  const token = new URL(link.url).searchParams.get('token') as string;
  expect(link).toMatchObject({ workload: 'door', tenant: 'ana+1@example.org' });
  // No gateway domain: the path form of the tenant's address.
  expect(link.url).toBe(`${gateway}/door/ana+1@example.org/_boilerhouse/link?token=${token}`);
  expect(token).toMatch(/^bhl_[A-Za-z0-9_-]+$/);

  const expiring = await api.request('/api/v1/tenants/ana+1@example.org/links', {
    ...post({ workload: 'door', expires_in_seconds: 3600 }),
  });
  expect(expiring.status).toBe(201);
  const expires = await expiring.json();
  expect(Date.parse(expires.expires_at) - Date.parse(expires.created_at)).toBe(3_600_000);

  const list = await api.request('/api/v1/tenants/ana+1@example.org/links');
  const text = await list.clone().text();
  expect(text).not.toContain('bhl_');
  expect(((await list.json()).links as { id: string }[]).map((each) => each.id).sort()).toEqual(
    [link.id, expires.id].sort(),
  );

  const path = `/door/ana+1@example.org/_boilerhouse/link?token=${token}`;
  expect((await callGateway(Number(new URL(gateway).port), path)).status).toBe(302);
  const revoked = await api.request(`/api/v1/tenants/ana+1@example.org/links/${link.id}`, {
    method: 'DELETE',
  });
  expect(revoked.status).toBe(204);
  expect((await callGateway(Number(new URL(gateway).port), path)).status).toBe(401);
  expect(await listed('ana+1@example.org')).toEqual([expires.id]);
  // Revoked already, another tenant's, or never minted: the same 404.
  const again = await api.request(`/api/v1/tenants/ana+1@example.org/links/${link.id}`, {
    method: 'DELETE',
  });
  const elsewhere = await api.request(`/api/v1/tenants/someone-else/links/${expires.id}`, {
    method: 'DELETE',
  });
  const never = await api.request('/api/v1/tenants/ana+1@example.org/links/0123456789ab', {
    method: 'DELETE',
  });
  expect([again.status, elsewhere.status, never.status]).toEqual([404, 404, 404]);
  expect(await listed('ana+1@example.org')).toEqual([expires.id]);
});

test('only a workload behind the gateway with auth: token has links', async () => {
  const plain = await api.request('/api/v1/tenants/ana/links', post({ workload: 'plain' }));
  expect(plain.status).toBe(409);
  expect((await plain.json()).error.message).toContain('has no gateway block');
  const open = await api.request('/api/v1/tenants/ana/links', post({ workload: 'open' }));
  expect(open.status).toBe(409);
  expect((await open.json()).error.message).toContain('gateway.auth: none');
  const unknown = await api.request('/api/v1/tenants/ana/links', post({ workload: 'nowhere' }));
  expect(unknown.status).toBe(404);
  expect(await listed('ana')).toEqual([]);
});

async function makeToken(body: Record<string, unknown>): Promise<string> {
  const response = await api.request('/api/v1/tokens', post({ name: 'links', ...body }));
  expect(response.status).toBe(201);
  return (await response.json()).token;
}

describe('a token limited to alice', () => {
  let aliceToken: string;
  let bobLink: string;

  beforeAll(async () => {
    aliceToken = await makeToken({ scopes: ['read', 'tenants:write'], tenants: ['alice'] });
    bobLink = (await mint('bob', 'door')).id;
  });

  test("mints, lists and revokes alice's links", async () => {
    const link = await mint('alice', 'door', aliceToken);
    expect(await listed('alice', aliceToken)).toEqual([link.id]);
    const revoked = await api.request(`/api/v1/tenants/alice/links/${link.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${aliceToken}` },
    });
    expect(revoked.status).toBe(204);
  });

  test("cannot mint, list or revoke bob's links, in the same words whether bob exists or not", async () => {
    const as = (path: string, init: RequestInit = {}) =>
      api.request(path, { ...init, headers: { Authorization: `Bearer ${aliceToken}` } });
    for (const tenant of ['bob', 'nobody-at-all']) {
      const answers = [
        await as(`/api/v1/tenants/${tenant}/links`, post({ workload: 'door' })),
        await as(`/api/v1/tenants/${tenant}/links`),
        await as(`/api/v1/tenants/${tenant}/links/${bobLink}`, { method: 'DELETE' }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(403);
        expect((await answer.json()).error.message).toBe(
          `path.tenant: this token is limited to tenants alice, not "${tenant}"`,
        );
      }
    }
    expect(await listed('bob')).toEqual([bobLink]);
  });
});

describe('a token limited to the workload door', () => {
  let doorToken: string;

  beforeAll(async () => {
    doorToken = await makeToken({ scopes: ['read', 'tenants:write'], workloads: ['door'] });
  });

  test("sees and revokes only door's links; porch's answer as unknown ones", async () => {
    const door = await mint('carol', 'door');
    const porch = await mint('carol', 'porch');
    const as = (path: string, init: RequestInit = {}) =>
      api.request(path, { ...init, headers: { Authorization: `Bearer ${doorToken}` } });

    const minted = await as('/api/v1/tenants/carol/links', post({ workload: 'porch' }));
    expect(minted.status).toBe(403);
    expect(await listed('carol', doorToken)).toEqual([door.id]);

    const outside = await as(`/api/v1/tenants/carol/links/${porch.id}`, { method: 'DELETE' });
    const unknown = await as('/api/v1/tenants/carol/links/0123456789ab', { method: 'DELETE' });
    expect([outside.status, unknown.status]).toEqual([404, 404]);
    const message = async (response: Response, id: string) =>
      ((await response.json()) as { error: { message: string } }).error.message.replace(id, 'ID');
    expect(await message(outside, porch.id)).toBe(await message(unknown, '0123456789ab'));
    expect((await listed('carol')).sort()).toEqual([door.id, porch.id].sort());

    expect((await as(`/api/v1/tenants/carol/links/${door.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await listed('carol')).toEqual([porch.id]);
  });
});
