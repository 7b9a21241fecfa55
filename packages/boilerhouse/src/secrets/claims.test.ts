/** Tenant secrets reaching their instance, on the real Docker engine, through the API. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness;
let app: TestApi;

beforeAll(async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 1',
    '  state:\n    target: /data': '  state:\n    target: /data\n  secrets:\n    target: /secrets/.env',
  });
  harness = await startHarness({ 'echo.yaml': text });
  app = testApi(harness);
});

afterAll(async () => {
  await harness.cleanup();
});

const SECRET = 'sk-ant-very-secret-value';

test("a tenant's secrets are written into its instance only, read-only, and never into the activity log", async () => {
  const put = await app.request('/api/v1/tenants/alice/secrets', {
    method: 'PUT',
    body: JSON.stringify({
      workload: 'echo',
      values: { ANTHROPIC_API_KEY: SECRET, GREETING: 'hello "world"' },
    }),
  });
  expect(await put.json()).toEqual({
    tenant: 'alice',
    workload: 'echo',
    keys: ['ANTHROPIC_API_KEY', 'GREETING'],
    shadowed: [],
  });

  const alice = await harness.boilerhouse.claim('alice', 'echo');
  const bob = await harness.boilerhouse.claim('bob', 'echo');
  const read = (id: string | null) =>
    harness.runtime.exec(id as string, ['cat', '/secrets/.env'], { timeoutMs: 5_000 });
  const aliceFile = await read(alice.instance.containerId);
  expect(aliceFile.output).toContain(`ANTHROPIC_API_KEY="${SECRET}"`);
  expect(aliceFile.output).toContain('GREETING="hello \\"world\\""');
  expect((await read(bob.instance.containerId)).output).not.toContain(SECRET);
  // Mounted read-only: the workload cannot change or remove them.
  const write = await harness.runtime.exec(
    alice.instance.containerId as string,
    ['sh', '-c', 'echo x >> /secrets/.env'],
    {
      timeoutMs: 5_000,
    },
  );
  expect(write.exitCode).not.toBe(0);

  const names = await (await app.request('/api/v1/tenants/alice/secrets')).json();
  expect(JSON.stringify(names)).not.toContain(SECRET);
  expect(names).toMatchObject({ secrets: [{ workload: 'echo', keys: ['ANTHROPIC_API_KEY', 'GREETING'] }] });
  expect(JSON.stringify(harness.boilerhouse.events(200))).not.toContain(SECRET);
  const row = harness.db.prepare('SELECT * FROM tenant_secrets').all();
  expect(JSON.stringify(row)).not.toContain(SECRET);

  // Destroyed with its instance.
  const { access } = await import('node:fs/promises');
  const memoryDir = await (async () => {
    const { MemoryDirs } = await import('./memory-dir.ts');
    return new MemoryDirs(harness.dataDir).dir(alice.instance.id);
  })();
  await access(memoryDir);
  await harness.boilerhouse.destroy(alice.instance.id);
  await expect(access(memoryDir)).rejects.toThrow();
});

test('bad secret input is refused with a message naming the key, never the value', async () => {
  const response = await app.request('/api/v1/tenants/alice/secrets', {
    method: 'PUT',
    body: JSON.stringify({ workload: 'echo', values: { 'not a name': SECRET } }),
  });
  expect(response.status).toBe(400);
  const body = (await response.json()) as { error: { message: string } };
  expect(JSON.stringify(body)).not.toContain(SECRET);
  expect(body.error.message).toContain('not a name');
});
