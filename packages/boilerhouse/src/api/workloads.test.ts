/** Workloads and pools through the API: apply (YAML and JSON), validation, scale, drain, delete, logs. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEchoApi, type TestApi } from '../testing/api.ts';
import { echoWorkload, type Harness, waitFor } from '../testing/harness.ts';

let harness: Harness;
let api: TestApi;

beforeAll(async () => {
  ({ harness, api } = await startEchoApi());
});

afterAll(async () => {
  await harness.cleanup();
});

const yaml = (id: string, replacements: Record<string, string> = {}) =>
  echoWorkload({ 'id: echo': `id: ${id}`, 'min_idle: 2': 'min_idle: 0', ...replacements });

const put = (id: string, body: string, type = 'application/yaml') =>
  api.request(`/api/v1/workloads/${id}`, { method: 'PUT', body, headers: { 'Content-Type': type } });

describe('apply', () => {
  test('a YAML body makes a new workload file and pool; the same id again replaces it', async () => {
    const text = await yaml('web');
    const created = await put('web', text);
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({
      id: 'web',
      created: true,
      file: join(harness.workloadsDir, 'web.yaml'),
    });
    expect(await readFile(join(harness.workloadsDir, 'web.yaml'), 'utf8')).toBe(text);
    const listed = await (await api.request('/api/v1/workloads')).json();
    expect(listed.workloads.map((workload: { id: string }) => workload.id)).toEqual(['echo', 'web']);
    const replaced = await put('web', await yaml('web', { 'max_size: 10': 'max_size: 4' }));
    expect(await replaced.json()).toMatchObject({ created: false });
    expect(await (await api.request('/api/v1/pools/web')).json()).toMatchObject({ max_size: 4 });
    const shown = await (await api.request('/api/v1/workloads/web')).json();
    expect(shown.source).toContain('max_size: 4');
  });

  test('a JSON body works too', async () => {
    const spec = { id: 'json-one', image: 'boilerhouse/echo:latest', pool: { min_idle: 0, max_size: 2 } };
    const response = await put('json-one', JSON.stringify(spec), 'application/json');
    expect(response.status).toBe(200);
    expect(await (await api.request('/api/v1/pools/json-one')).json()).toMatchObject({ max_size: 2 });
  });

  test('an invalid file is refused with every problem located, and nothing is written', async () => {
    const response = await put('bad', 'id: bad\nimage: boilerhouse/echo:latest\npool:\n  min_idel: 1\n');
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.code).toBe('invalid_workload');
    expect(error.details[0]).toMatchObject({ path: 'bad.yaml:4:3 pool.min_idel' });
    expect(error.details[0].message).toContain('min_idle');
    await expect(readFile(join(harness.workloadsDir, 'bad.yaml'))).rejects.toThrow('ENOENT');
  });

  test('the id in the body must be the one in the URL; the media type must be YAML or JSON', async () => {
    const mismatch = await put('other', await yaml('web'));
    expect((await mismatch.json()).error.message).toBe(
      'the body defines workload "web", but the URL names "other"',
    );
    const plain = await put('web', await yaml('web'), 'text/plain');
    expect(plain.status).toBe(400);
    expect((await plain.json()).error.message).toMatch(/^the request body must be one of application\/yaml/);
  });
});

describe('pools', () => {
  test('scale fills the pool to the new min_idle without changing its version; null goes back to the file', async () => {
    const before = await (await api.request('/api/v1/pools/echo')).json();
    const scaled = await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{"min_idle": 1}' });
    expect(await scaled.json()).toMatchObject({
      min_idle: 1,
      scaled: { min_idle: 1 },
      version: before.version,
    });
    await waitFor(() => harness.boilerhouse.pool('echo').instances.ready === 1, 30_000, 'a ready instance');
    const bad = await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{"min_idle": 50}' });
    expect((await bad.json()).error.message).toBe(
      'min_idle (50) cannot be more than max_size (10) for pool echo',
    );
    const empty = await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{}' });
    expect((await empty.json()).error.message).toBe('body: must NOT have fewer than 1 properties, got {}');
  });

  test('scaling down gives back idle instances: beyond the new min_idle, and beyond the new max_size', async () => {
    await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{"min_idle": 3}' });
    await waitFor(() => harness.boilerhouse.pool('echo').instances.ready === 3, 60_000, 'three ready');
    await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{"min_idle": 2}' });
    await waitFor(() => harness.boilerhouse.pool('echo').instances.ready === 2, 30_000, 'trimmed to two');
    await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{"min_idle": 1, "max_size": 1}' });
    await waitFor(() => harness.boilerhouse.pool('echo').instances.ready === 1, 30_000, 'trimmed to one');
    const trimmed = () =>
      harness.boilerhouse
        .events(50)
        .filter((event) => event.type === 'instance.destroyed' && event.message.includes('scaled down'));
    await waitFor(() => trimmed().length === 2, 30_000, 'two trimmed instances destroyed');
    await api.request('/api/v1/pools/echo/scale', { method: 'POST', body: '{"max_size": null}' });
  });

  test('the container output of an instance can be read', async () => {
    const [instance] = harness.boilerhouse.instances({ workload: 'echo', phase: 'ready' });
    const response = await api.request(`/api/v1/instances/${instance?.id}/logs?tail=50`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(typeof (await response.text())).toBe('string');
    expect((await api.request('/api/v1/instances/nope-1/logs')).status).toBe(404);
  });

  test('drain destroys the ready instances and keeps the pool empty', async () => {
    const drained = await (await api.request('/api/v1/pools/echo/drain', { method: 'POST' })).json();
    expect(drained).toMatchObject({ min_idle: 0, instances: { ready: 0 } });
    const reset = await api.request('/api/v1/pools/echo/scale', {
      method: 'POST',
      body: '{"min_idle": null}',
    });
    expect(await reset.json()).toMatchObject({ min_idle: 0, scaled: {} });
  });
});

describe('delete', () => {
  test('refuses while a tenant holds an instance, unless forced (which releases it first)', async () => {
    await put('gone', await yaml('gone'));
    const claim = await api.request('/api/v1/tenants/alice/claim', {
      method: 'POST',
      body: '{"workload": "gone"}',
    });
    expect(claim.status).toBe(200);
    const refused = await api.request('/api/v1/workloads/gone', { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect((await refused.json()).error.message).toContain('held by tenants (alice)');
    expect((await api.request('/api/v1/workloads/gone?force=true', { method: 'DELETE' })).status).toBe(204);
    await expect(readFile(join(harness.workloadsDir, 'gone.yaml'))).rejects.toThrow('ENOENT');
    expect(harness.boilerhouse.instances({ workload: 'gone' })).toEqual([]);
    expect((await api.request('/api/v1/workloads/gone')).status).toBe(404);
  });
});
