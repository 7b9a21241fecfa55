/** The HTTP API through `app.request()`, over a real Boilerhouse on the real Docker engine. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON bodies and assert on their shape.
type Json = any;
const json = async (response: Response): Promise<Json> => response.json();

let harness: Harness;
let app: TestApi;

beforeAll(async () => {
  const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0', 'max_size: 10': 'max_size: 1' });
  harness = await startHarness({ 'echo.yaml': text });
  app = testApi(harness);
});

afterAll(async () => {
  await harness.cleanup();
});

const post = (path: string, body: unknown) =>
  app.request(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('claim and release', () => {
  test('claim returns the instance, its endpoints, the path and timings; release reserves it', async () => {
    const claim = await post('/api/v1/tenants/alice/claim', { workload: 'echo' });
    expect(claim.status).toBe(200);
    const body = await json(claim);
    expect(body).toMatchObject({
      tenant: 'alice',
      workload: 'echo',
      instance: { phase: 'claimed', tenant: 'alice', workload: 'echo' },
      endpoints: [{ port: 8080, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) }],
      path: 'cold',
      timings_ms: { total: expect.any(Number) },
    });
    expect(await (await fetch(`${body.endpoints[0].url}/health`)).text()).toBe('ok\n');

    const tenant = await json(await app.request('/api/v1/tenants/alice'));
    expect(tenant.instances).toHaveLength(1);
    expect(tenant.instances[0].endpoints).toEqual(body.endpoints);
    // echo's file_idle_ttl is 5 minutes: the countdown starts at the claim, before the first scan.
    const idleAt = Date.parse(tenant.instances[0].idle_release_at);
    expect(idleAt).toBeGreaterThan(Date.now() + 4 * 60_000);

    const release = await post('/api/v1/tenants/alice/release', { workload: 'echo' });
    expect(release.status).toBe(200);
    expect(await release.json()).toMatchObject({ outcome: 'reserved', instance: { phase: 'reserved' } });
  });

  test('an exhausted pool answers 503 with Retry-After', async () => {
    await post('/api/v1/tenants/alice/claim', { workload: 'echo' });
    const response = await post('/api/v1/tenants/bob/claim', { workload: 'echo' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({
      error: {
        code: 'pool_exhausted',
        message: 'pool "echo" is exhausted: all 1 instances are in use',
        request_id: response.headers.get('x-request-id'),
      },
    });
  });
});

describe('bad input names what is wrong', () => {
  test.each([
    [
      '/api/v1/tenants/alice/claim',
      '{not json',
      400,
      expect.stringMatching(/^the request body is not valid JSON: /),
    ],
    ['/api/v1/tenants/alice/claim', '', 400, 'the request needs a JSON body'],
    ['/api/v1/tenants/alice/claim', '[1]', 400, 'body: must be an object, got [1]'],
    ['/api/v1/tenants/alice/claim', '{}', 400, 'body.workload: is required'],
    ['/api/v1/tenants/alice/claim', '{"workload": 7}', 400, 'body.workload: must be a string, got 7'],
    [
      '/api/v1/tenants/alice/claim',
      '{"workload": "echo", "tenant": "x"}',
      400,
      'body.tenant: is not a known field',
    ],
    [
      '/api/v1/tenants/alice/claim',
      '{"workload": "Echo!"}',
      400,
      'body.workload: must be a workload id: lowercase letters, digits and hyphens, got "Echo!"',
    ],
    ['/api/v1/tenants/alice/claim', '{"workload": "nope"}', 404, 'no workload "nope"; known workloads: echo'],
    [
      '/api/v1/tenants/a%20b/claim',
      '{"workload": "echo"}',
      400,
      'path.tenant: must be a tenant id: 1-128 letters, digits and . _ @ + -, got "a b"',
    ],
    ['/api/v1/tenants/nobody/release', '{"workload": "echo"}', 404, 'tenant nobody has no instance of echo'],
  ])('POST %s %s -> %d', async (path, body, status, message) => {
    const response = await post(path, body);
    expect(response.status).toBe(status);
    expect((await json(response)).error.message).toEqual(message);
  });

  test.each([
    ['/api/v1/events?limit=abc', 400, 'query.limit: must be an integer, got "abc"'],
    ['/api/v1/events?limit=5000', 400, 'query.limit: must be <= 1000, got 5000'],
    ['/api/v1/events?limt=5', 400, 'query.limt: is not a known field'],
    [
      '/api/v1/instances?phase=sleeping',
      400,
      expect.stringMatching(/^query\.phase: must be one of "creating", /),
    ],
    ['/api/v1/pools/nope', 404, 'no workload "nope"; known workloads: echo'],
    ['/api/v1/nothing-here', 404, 'no route GET /api/v1/nothing-here'],
    ['/api/v1/tenants/alice/claim', 405, 'GET is not allowed on /api/v1/tenants/alice/claim; use POST'],
  ])('GET %s -> %d', async (path, status, message) => {
    const response = await app.request(path);
    expect(response.status).toBe(status);
    expect((await json(response)).error.message).toEqual(message);
  });

  test('a body over the size limit is refused with 413, before it is read whole', async () => {
    const response = await post(
      '/api/v1/tenants/alice/claim',
      `{"workload": "${'x'.repeat(2 * 1024 * 1024)}"}`,
    );
    expect(response.status).toBe(413);
    expect((await json(response)).error.code).toBe('payload_too_large');
  });

  test('a route that takes no body refuses one', async () => {
    const response = await app.request('/api/v1/pools/echo/drain', { method: 'POST', body: '{"now": true}' });
    expect(response.status).toBe(400);
    expect((await json(response)).error.message).toBe(
      'POST /api/v1/pools/{workload}/drain takes no request body',
    );
  });

  test('every error carries the request id, which is also a response header (a sane incoming one is kept)', async () => {
    const response = await app.request('/api/v1/pools/nope', { headers: { 'X-Request-Id': 'trace-42' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    expect((await json(response)).error.request_id).toBe('trace-42');
    const odd = await app.request('/api/v1/pools/nope', { headers: { 'X-Request-Id': 'no spaces allowed' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
  });

  test('DELETE of an unknown instance is a 404', async () => {
    const response = await app.request('/api/v1/instances/echo-nope', { method: 'DELETE' });
    expect(response.status).toBe(404);
  });
});

test('pools, instances, events and health', async () => {
  expect(await (await app.request('/api/v1/health')).json()).toEqual({
    status: 'ok',
    daemon: harness.boilerhouse.daemonId,
  });
  const pools = await json(await app.request('/api/v1/pools'));
  expect(pools.pools[0]).toMatchObject({
    workload: 'echo',
    min_idle: 0,
    max_size: 1,
    instances: { claimed: 1 },
  });
  const instances = await json(await app.request('/api/v1/instances'));
  expect(instances.instances).toHaveLength(1);
  const events = await json(await app.request('/api/v1/events?limit=5'));
  expect(events.events.length).toBeLessThanOrEqual(5);
  expect(events.events[0]).toMatchObject({
    id: expect.any(Number),
    type: expect.any(String),
    at: expect.any(String),
  });

  const id = instances.instances[0].id;
  expect((await app.request(`/api/v1/instances/${id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await json(await app.request('/api/v1/instances'))).instances).toEqual([]);
});
