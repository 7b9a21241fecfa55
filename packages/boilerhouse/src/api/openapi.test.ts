/** The OpenAPI document: valid OpenAPI 3.1, and exactly the routes the app serves. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness;
let api: TestApi;
// biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON.
let document: any;

beforeAll(async () => {
  harness = await startHarness(
    { 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) },
    { start: false },
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
