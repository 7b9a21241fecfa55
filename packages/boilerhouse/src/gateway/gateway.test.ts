/**
 * The gateway on the real engine, served by the socket host: path and host forms, links, refusals that tell
 * nothing, tricks that never reach another tenant, WebSocket, SSE, a streamed 50 MiB upload, keep-alive,
 * wakes on request (never claimed, released, 50 at once, full pool, timeout) and traffic as activity.
 */
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { listEvents } from '../db/events.ts';
import { hostPaths } from '../proxy/host/paths.ts';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';
import { hostLabel } from './labels.ts';
import { callGateway, holdEvents, rawRequest, readEvents, webSocketEcho } from './testing.ts';

const DOMAIN = 'gw.test';
let harness: Harness;
let api: TestApi;
let port: number;

async function gatewayWorkload(
  id: string,
  gateway: string,
  pool: Record<string, string> = {},
): Promise<string> {
  const text = await echoWorkload({
    'id: echo': `id: ${id}`,
    'path: sinks/echo': `path: sinks/${id}`,
    ...pool,
  });
  return `${text}\ngateway:\n${gateway}`;
}

beforeAll(async () => {
  harness = await startHarness(
    {
      'echo.yaml': await gatewayWorkload('echo', '  port: 8080\n', { 'min_idle: 2': 'min_idle: 1' }),
      'open.yaml': await gatewayWorkload('open', '  port: 8080\n  auth: none\n', {
        'min_idle: 2': 'min_idle: 1',
      }),
      'tiny.yaml': await gatewayWorkload('tiny', '  port: 8080\n  auth: none\n', {
        'min_idle: 2': 'min_idle: 0',
        'max_size: 10': 'max_size: 1',
      }),
      'slow.yaml': await gatewayWorkload('slow', '  port: 8080\n  auth: none\n  wake_timeout: 1ms\n', {
        'min_idle: 2': 'min_idle: 0',
      }),
      // A TTL far longer than the gateway's traffic reports (1 s), so a slow machine never releases it.
      'idle.yaml': await gatewayWorkload('idle', '  port: 8080\n  auth: none\n', {
        'min_idle: 2': 'min_idle: 0',
      }),
      'quiet.yaml': await gatewayWorkload('quiet', '  port: 8080\n  auth: none\n  activity: false\n', {
        'min_idle: 2': 'min_idle: 0',
        'file_idle_ttl: 5m': 'file_idle_ttl: 1500ms',
      }),
    },
    { gateway: { host: '127.0.0.1', port: 0, domain: DOMAIN } },
  );
  api = testApi(harness);
  port = Number(new URL(harness.boilerhouse.gateway?.url as string).port);
  // Warm pools first, so the first wake takes the warm path.
  await waitFor(() => harness.boilerhouse.pool('echo').instances.ready >= 1, 60_000, 'a warm echo');
}, 90_000);

afterAll(async () => {
  await harness?.cleanup();
}, 120_000);

async function mint(tenant: string, workload = 'echo'): Promise<{ url: string; token: string; id: string }> {
  const response = await api.request(`/api/v1/tenants/${tenant}/links`, {
    method: 'POST',
    body: JSON.stringify({ workload }),
  });
  expect(response.status).toBe(201);
  const body = await response.json();
  return { url: body.url, token: new URL(body.url).searchParams.get('token') as string, id: body.id };
}

function claimsOf(tenant: string, workload: string): number {
  return listEvents(harness.db, 1000).filter(
    (event) => event.tenant === tenant && event.workload === workload && event.type === 'instance.claimed',
  ).length;
}

test('a link sets the cookie of its path (path form) and of its origin (host form); both reach the tenant', async () => {
  const link = await mint('ana+1@example.org');
  const host = `${hostLabel('echo', 'ana+1@example.org')}.${DOMAIN}:${port}`;
  // With a gateway domain, links open the tenant's own origin.
  expect(link.url).toBe(`http://${host}/_boilerhouse/link?token=${link.token}`);
  const opened = await callGateway(port, `/echo/ana+1@example.org/_boilerhouse/link?token=${link.token}`);
  expect(opened.status).toBe(302);
  expect(opened.headers.location).toBe('/echo/ana+1@example.org/');
  const cookie = String(opened.headers['set-cookie']);
  expect(cookie).toContain('Path=/echo/ana+1@example.org/');
  expect(cookie).toContain('HttpOnly');
  expect(cookie).toContain('SameSite=Lax');

  // The first request wakes a tenant never claimed; the instance sees its own path and no gateway credential.
  const echoed = await callGateway(port, '/echo/ana+1@example.org/hello?x=1', {
    headers: { cookie: `${cookie.split(';')[0]}; theirs=1`, 'x-forwarded-for': '6.6.6.6', 'keep-alive': '5' },
  });
  expect(echoed.status).toBe(200);
  const seen = JSON.parse(echoed.body);
  expect(seen.path).toBe('/hello?x=1');
  expect(seen.headers.cookie).toBe('theirs=1');
  expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  expect(seen.headers['x-forwarded-host']).toBe(`127.0.0.1:${port}`);
  expect(seen.headers['keep-alive']).toBeUndefined();
  // Recorded once the route is pushed, which is also when the held request goes on: it may come second.
  const woken = await waitFor(
    () =>
      listEvents(harness.db, 1000).find(
        (event) => event.type === 'tenant.woken' && event.tenant === 'ana+1@example.org',
      ),
    10_000,
    'the wake event',
  );
  expect(woken.data).toMatchObject({ trigger: 'request', path: 'warm' });

  // Host form: the tenant's own origin, the link as Bearer for an API client.
  const byHost = await callGateway(port, '/a/b', {
    host,
    headers: { authorization: `Bearer ${link.token}` },
  });
  expect(byHost.status).toBe(200);
  expect(JSON.parse(byHost.body).path).toBe('/a/b');
  expect(JSON.parse(byHost.body).headers.authorization).toBeUndefined();
  const hostCookie = await callGateway(port, `/_boilerhouse/link?token=${link.token}`, { host });
  expect(String(hostCookie.headers['set-cookie'])).toContain('Path=/;');
  expect(hostCookie.headers.location).toBe('/');
});

test("a tenant's link is refused for another, and an unknown tenant answers as a wrong token does", async () => {
  const ana = await mint('ana');
  await mint('bob');
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const refusals = await Promise.all([
    callGateway(port, '/echo/bob/', { headers: bearer(ana.token) }),
    callGateway(port, '/echo/bob/'),
    callGateway(port, '/echo/nobody-at-all/', { headers: bearer(ana.token) }),
    callGateway(port, '/echo/nobody-at-all/', { headers: bearer('bhl_wrong') }),
    callGateway(port, '/', { host: `${hostLabel('echo', 'bob')}.${DOMAIN}`, headers: bearer(ana.token) }),
    callGateway(port, '/', {
      host: `${hostLabel('echo', 'nobody-at-all')}.${DOMAIN}`,
      headers: bearer(ana.token),
    }),
    callGateway(port, `/echo/bob/_boilerhouse/link?token=${ana.token}`),
  ]);
  for (const refusal of refusals) {
    expect(refusal.status).toBe(401);
    expect(refusal.body).toBe(refusals[0]?.body);
    expect(refusal.headers['set-cookie']).toBeUndefined();
  }
  expect(claimsOf('bob', 'echo')).toBe(0);

  // Revoked: refused from the moment the DELETE answers.
  expect((await callGateway(port, '/echo/ana/', { headers: bearer(ana.token) })).status).toBe(200);
  const revoked = await api.request(`/api/v1/tenants/ana/links/${ana.id}`, { method: 'DELETE' });
  expect(revoked.status).toBe(204);
  expect((await callGateway(port, '/echo/ana/', { headers: bearer(ana.token) })).status).toBe(401);
  const listed = await (await api.request('/api/v1/tenants/bob/links')).json();
  expect(listed.links).toHaveLength(1);
  expect(JSON.stringify(listed)).not.toContain('bhl_');
});

test('path, Host and encoding tricks are refused with 400 and reach no tenant', async () => {
  const ana = await mint('trick-ana');
  const auth = `Authorization: Bearer ${ana.token}`;
  const host = `Host: 127.0.0.1:${port}`;
  const tricks = [
    `GET /echo/trick-ana/../trick-bob/ HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana/%2e%2e/trick-bob/ HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana/.%2E/x HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana%2F..%2Ftrick-bob/ HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana/a%2fb HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana/a%5cb HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana/%zz HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET //echo/trick-ana/ HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET http://127.0.0.1:${port}/echo/trick-bob/ HTTP/1.1\r\n${host}\r\n${auth}`,
    `GET /echo/trick-ana/ HTTP/1.1\r\n${host}\r\nHost: ${hostLabel('echo', 'trick-bob')}.${DOMAIN}\r\n${auth}`,
    `GET /echo/trick-ana/ HTTP/1.1\r\n${auth}`,
  ];
  for (const trick of tricks) {
    const answer = await rawRequest(port, trick);
    expect(answer.status, trick.split('\r\n')[0]).toBe(400);
  }
  expect(claimsOf('trick-ana', 'echo') + claimsOf('trick-bob', 'echo')).toBe(0);
});

test('a WebSocket, an SSE stream, a 50 MiB upload streamed and keep-alive, through the gateway', async () => {
  expect(await webSocketEcho(port, '/open/carol/ws', 'hello over the gateway')).toBe(
    'hello over the gateway',
  );
  expect(await readEvents(port, '/open/carol/sse?every=20', 5)).toEqual(['0', '1', '2', '3', '4']);

  const pid = Number((await readFile(hostPaths(harness.dataDir).pid, 'utf8')).trim());
  const rss = async () =>
    Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
  const before = await rss();
  const size = 50 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const body = () =>
    Readable.from(
      (function* () {
        for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
      })(),
    );
  const upload = (body: Readable) =>
    callGateway(port, '/open/carol/upload', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
  const uploads = [await upload(body()), await upload(body())];
  expect(uploads.map((answer) => [answer.status, Number(answer.body)])).toEqual([
    [200, size],
    [200, size],
  ]);
  // Streamed: after two uploads the host grew by less than one body (holding one would be 50 MiB more).
  expect((await rss()) - before).toBeLessThan(size);

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const first = await callGateway(port, '/open/carol/one', { agent });
  const second = await callGateway(port, '/open/carol/two', { agent });
  agent.destroy();
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(second.reusedSocket).toBe(true);
});

test('50 requests at once to a released tenant share one claim (a hit)', async () => {
  expect((await callGateway(port, '/open/dora/')).status).toBe(200);
  await harness.boilerhouse.release('dora', 'open');
  await waitFor(() => harness.boilerhouse.tenant('dora').instances[0]?.phase === 'reserved');
  const claimsBefore = claimsOf('dora', 'open');
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => callGateway(port, `/open/dora/req-${i}`)),
  );
  expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
  expect(claimsOf('dora', 'open') - claimsBefore).toBe(1);
  // Recorded once the route is pushed, as the held requests go on: it may come after their answers.
  const woken = await waitFor(
    () =>
      listEvents(harness.db, 1000).find((event) => event.type === 'tenant.woken' && event.tenant === 'dora'),
    10_000,
    'the wake event',
  );
  expect(woken.data).toMatchObject({ trigger: 'request', path: 'hit' });
});

test('a full pool answers 503 with Retry-After; a wake past wake_timeout answers 504', async () => {
  expect((await callGateway(port, '/tiny/erin/')).status).toBe(200);
  const full = await callGateway(port, '/tiny/fred/');
  expect(full.status).toBe(503);
  expect(Number(full.headers['retry-after'])).toBeGreaterThan(0);
  expect(JSON.parse(full.body).error.code).toBe('pool_exhausted');

  const late = await callGateway(port, '/slow/gina/');
  expect(late.status).toBe(504);
  expect(JSON.parse(late.body).error.code).toBe('wake_timeout');
  // The claim goes on: the next request finds the tenant's instance.
  await waitFor(() => harness.boilerhouse.tenant('gina').instances[0]?.phase === 'claimed', 30_000);
  expect((await callGateway(port, '/slow/gina/')).status).toBe(200);
});

test('gateway traffic holds off the idle release, unless the workload says it does not count', async () => {
  const instance = (workload: string) =>
    harness.boilerhouse.tenant('hana').instances.find((instance) => instance.workload === workload);
  // A stream open through each, and nothing written to either instance's files.
  const streams = await Promise.all([
    holdEvents(port, '/idle/hana/sse?every=100'),
    holdEvents(port, '/quiet/hana/sse?every=100'),
  ]);
  const openedAt = Date.now();
  try {
    // quiet (activity: false) goes at its 1.5 s TTL with its stream open.
    await waitFor(() => instance('quiet')?.phase !== 'claimed', 60_000, 'quiet to be released');
    // idle's deadline moves out with its open stream: traffic seen after the stream opened counts as a write.
    const ttl = harness.boilerhouse.workload('idle').spec.pool.fileIdleTtl as number;
    await waitFor(
      () => {
        const idle = instance('idle');
        return idle !== undefined && (harness.boilerhouse.idleReleaseAt(idle) ?? 0) >= openedAt + ttl;
      },
      60_000,
      "idle's deadline to move past the stream's opening",
    );
    expect(instance('idle')?.phase).toBe('claimed');
  } finally {
    for (const hangUp of streams) hangUp();
  }
}, 150_000);
