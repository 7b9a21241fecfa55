/**
 * The OpenAPI document: valid OpenAPI 3.1, exactly the routes the app serves, and response schemas that
 * match what the API answers (every JSON success response is received once and checked).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { responseChecker, type TestApi, testApi } from '../testing/api.ts';
import { counter, echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness;
let api: TestApi;
// biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON.
type Json = any;
let document: Json;

beforeAll(async () => {
  // door: a workload behind the gateway with access links (auth: token), for the link routes.
  const door = await echoWorkload({
    'id: echo': 'id: door',
    'path: sinks/echo': 'path: sinks/door',
    'min_idle: 2': 'min_idle: 0',
  });
  harness = await startHarness(
    {
      'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }),
      'door.yaml': `${door}\ngateway:\n  port: 8080\n`,
    },
    { gateway: { host: '127.0.0.1', port: 0, domain: null } },
  );
  api = testApi(harness);
  const response = await api.request('/api/v1/openapi.json');
  expect(response.status).toBe(200);
  document = await response.json();
});

afterAll(async () => {
  await harness.cleanup();
});

test('is a valid OpenAPI 3.1 document', async () => {
  const validator = new Validator();
  const result = await validator.validate(document);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(document.openapi).toBe('3.1.0');
});

test('documents every route the app answers, and only those', async () => {
  const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
    ([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  expect(documented.length).toBeGreaterThan(25);
  for (const entry of documented) {
    const [method, path] = entry.split(' ') as [string, string];
    const concrete = path.replace(
      /\{[^}]+\}/g,
      (name) =>
        ({ '{seq}': '1', '{id}': 'abcdef012345', '{tenant}': 'alice', '{workload}': 'echo' })[name] ?? 'x',
    );
    const response = await api.raw(concrete, { method });
    // Unauthenticated: every route but health answers 401, which proves it is there; none is 404/405.
    expect([entry, response.status]).toEqual([entry, path === '/api/v1/health' ? 200 : 401]);
  }
});

test('request schemas in the document are the ones that validate requests', async () => {
  const claim = document.paths['/api/v1/tenants/{tenant}/claim'].post;
  expect(claim.requestBody.content['application/json'].schema).toMatchObject({
    required: ['workload'],
    additionalProperties: false,
  });
  expect(claim['x-scope']).toBe('tenants:claim');
  const put = document.paths['/api/v1/workloads/{id}'].put;
  expect(Object.keys(put.requestBody.content)).toContain('application/yaml');
  expect(put.requestBody.content['application/yaml'].schema.properties).toHaveProperty('pool');
  expect(document.paths['/api/v1/health'].get.security).toEqual([]);
});

test('every route refuses bad input with the place named: a malformed path parameter, a body that is not an object, an unknown query parameter', async () => {
  let checked = 0;
  // biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON.
  for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = (operation.parameters ?? []) as { name: string; in: string }[];
      const good = path.replace(
        /\{[^}]+\}/g,
        (name) =>
          ({ '{seq}': '1', '{id}': 'abcdef012345', '{tenant}': 'alice', '{workload}': 'echo' })[name] ?? 'x',
      );
      for (const parameter of parameters.filter((p) => p.in === 'path')) {
        const bad = path
          .replace(`{${parameter.name}}`, '%21%21')
          .replace(
            /\{[^}]+\}/g,
            (name) => ({ '{seq}': '1', '{tenant}': 'alice', '{workload}': 'echo' })[name] ?? 'x',
          );
        const response = await api.request(bad, { method: method.toUpperCase() });
        expect([`${method} ${path}`, response.status]).toEqual([`${method} ${path}`, 400]);
        expect((await response.json()).error.message).toMatch(
          new RegExp(`^path\\.${parameter.name}: must be `),
        );
        checked++;
      }
      // Workload files (YAML or JSON) are checked by the workload loader instead, tested in workloads.test.ts.
      const content = operation.requestBody?.content ?? {};
      if (content['application/json'] && !content['application/yaml']) {
        const response = await api.request(good, { method: method.toUpperCase(), body: '[1]' });
        expect([`${method} ${path}`, response.status]).toEqual([`${method} ${path}`, 400]);
        expect((await response.json()).error.message).toBe('body: must be an object, got [1]');
        checked++;
      }
      if (method === 'get' && path !== '/api/v1/health') {
        const response = await api.request(`${good}?bogus=1`);
        expect([`${method} ${path}`, response.status]).toEqual([`${method} ${path}`, 400]);
        expect((await response.json()).error.details).toContainEqual({
          path: 'query.bogus',
          message: 'is not a known field',
        });
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThanOrEqual(40);
});

test('every JSON success response names its schema, and the schemas are the views’ components', () => {
  expect(Object.keys(document.components.schemas)).toEqual(
    expect.arrayContaining(['Error', 'Instance', 'Pool', 'Event', 'Claim', 'Release', 'Tenant', 'Save']),
  );
  for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        const json = response.content?.['application/json'];
        if (json === undefined) continue;
        expect([method, path, status, json.schema]).toEqual([method, path, status, expect.any(Object)]);
      }
    }
  }
  expect(document.paths['/api/v1/pools'].get.responses['200'].content['application/json'].schema).toEqual({
    $ref: '#/components/schemas/PoolList',
  });
  // Not JSON: the stream and the logs keep their media types.
  expect(Object.keys(document.paths['/api/v1/events/stream'].get.responses['200'].content)).toEqual([
    'text/event-stream',
  ]);
  expect(Object.keys(document.paths['/api/v1/instances/{id}/logs'].get.responses['200'].content)).toEqual([
    'text/plain',
  ]);
});

test('a response that does not match its schema is caught, with the place named', async () => {
  const checker = responseChecker(document);
  const pool = (await (await api.request('/api/v1/pools/echo')).json()) as Json;
  const answer = (body: unknown) =>
    new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
  await expect(checker.check('GET', '/api/v1/pools/echo', answer(pool))).resolves.toBeUndefined();
  await expect(
    checker.check('GET', '/api/v1/pools/echo', answer({ ...pool, min_idle: 'two' })),
  ).rejects.toThrow(
    /^GET \/api\/v1\/pools\/\{workload\} 200: the body does not match its schema:\n {2}body\/min_idle: must be integer/,
  );
  await expect(checker.check('GET', '/api/v1/pools/echo', answer({ ...pool, extra: 1 }))).rejects.toThrow(
    'must NOT have additional properties',
  );
  await expect(
    checker.check(
      'GET',
      '/api/v1/pools/echo',
      new Response('ok', { headers: { 'Content-Type': 'text/plain' } }),
    ),
  ).rejects.toThrow('answered text/plain; the document says application/json');
});

test('every documented JSON success response is received and matches its schema', async () => {
  const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const response = await api.request(path, {
      method,
      ...(body === undefined
        ? {}
        : {
            body: typeof body === 'string' ? body : JSON.stringify(body),
            headers: { 'Content-Type': type },
          }),
    });
    expect([method, path, response.status]).toEqual([method, path, expect.toSatisfy((s: number) => s < 300)]);
    return response.status === 204 ? undefined : ((await response.json()) as Json);
  };
  await call('GET', '/api/v1/health');
  const token = await call('POST', '/api/v1/tokens', {
    name: 'reader',
    scopes: ['read'],
    tenants: ['alice'],
  });
  await call('GET', '/api/v1/tokens');
  await call('GET', '/api/v1/whoami');
  await call('DELETE', `/api/v1/tokens/${token.id}`);

  const vault = await echoWorkload({
    'id: echo': 'id: vault',
    'min_idle: 2': 'min_idle: 0',
    '  state:\n    target: /data': '  state:\n    target: /data\n  secrets:\n    target: /secrets/.env',
  });
  await call('PUT', '/api/v1/workloads/vault', vault, 'application/yaml');
  await call('GET', '/api/v1/workloads');
  expect(await call('GET', '/api/v1/workloads/vault')).toMatchObject({ problems: [] });
  await call('GET', '/api/v1/pools');
  await call('GET', '/api/v1/pools/vault');
  await call('POST', '/api/v1/pools/vault/scale', { max_size: 3 });
  await call('POST', '/api/v1/pools/vault/drain');
  expect(await call('POST', '/api/v1/workloads/vault/upgrade', { now: true })).toMatchObject({
    workload: 'vault',
    now: true,
    tenants: [],
  });

  await call('PUT', '/api/v1/tenants/alice/secrets', { workload: 'vault', values: { A: '1', B: '2' } });
  expect(
    await call('PATCH', '/api/v1/tenants/alice/secrets', {
      workload: 'vault',
      set: { C: '3' },
      remove: ['A'],
    }),
  ).toEqual({
    tenant: 'alice',
    workload: 'vault',
    keys: ['B', 'C'],
    shadowed: [],
  });
  await call('GET', '/api/v1/tenants/alice/secrets');
  // Removing every name forgets the set.
  expect(
    await call('PATCH', '/api/v1/tenants/alice/secrets', { workload: 'vault', remove: ['B', 'C'] }),
  ).toMatchObject({ keys: [] });
  expect(await call('GET', '/api/v1/tenants/alice/secrets')).toEqual({ tenant: 'alice', secrets: [] });
  await call('PUT', '/api/v1/tenants/alice/secrets', { workload: 'vault', values: { A: '1' } });
  await call('DELETE', '/api/v1/tenants/alice/secrets?workload=vault');

  const claim = await call('POST', '/api/v1/tenants/alice/claim', { workload: 'echo' });
  await counter(claim.endpoints[0].url);
  await call('GET', '/api/v1/tenants');
  await call('GET', '/api/v1/tenants/alice');
  await call('GET', '/api/v1/wakes');
  await call('GET', '/api/v1/instances');
  expect(
    await call('POST', '/api/v1/tenants/alice/sync', { workload: 'echo', direction: 'upload' }),
  ).toMatchObject({
    save: { seq: 1, changed: true, uploaded_files: expect.any(Number) },
  });
  await call('POST', '/api/v1/tenants/alice/release', { workload: 'echo' });
  await call('GET', '/api/v1/tenants/alice/snapshots?workload=echo');
  await call('POST', '/api/v1/tenants/alice/snapshots/1/restore', { workload: 'echo' });
  const link = await call('POST', '/api/v1/tenants/alice/links', { workload: 'door' });
  await call('GET', '/api/v1/tenants/alice/links');
  await call('DELETE', `/api/v1/tenants/alice/links/${link.id}`);
  await call('GET', '/api/v1/events?limit=50');
  await call('DELETE', '/api/v1/workloads/vault');

  const documented = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(
    ([path, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) =>
        Object.entries(operation.responses as Record<string, Json>)
          .filter(([status, response]) => Number(status) < 300 && response.content?.['application/json'])
          .map(([status]) => `${method.toUpperCase()} ${path} ${status}`),
      ),
  );
  expect(documented.length).toBeGreaterThan(20);
  expect(documented.filter((operation) => !api.checked.has(operation))).toEqual([]);
});
