/** GET /api/v1/backup: the daemon's own state as a tar, for admins only; a key from the environment stays out. */
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sha256Of } from '../db/backup.ts';
import { readTar } from '../db/backup-archive.ts';
import type { BackupManifest } from '../db/backup-manifest.ts';
import { keyId } from '../secrets/cipher.ts';
import { type TestApi, testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

const secretKey = randomBytes(32);
let harness: Harness;
let api: TestApi;

beforeAll(async () => {
  harness = await startHarness(
    { 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) },
    { env: { BOILERHOUSE_SECRET_KEY: secretKey.toString('base64') } },
  );
  api = testApi(harness);
});

afterAll(async () => {
  await harness.cleanup();
});

test('a backup is a tar of the manifest and a consistent copy of the database; a key from the environment is not in it', async () => {
  await harness.boilerhouse.claim('alice', 'echo');
  const response = await api.request('/api/v1/backup');
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('application/x-tar');
  expect(response.headers.get('Cache-Control')).toBe('no-store');
  const files = new Map<string, Buffer>();
  await readTar(response.body as ReadableStream<Uint8Array>, async (name) => {
    const parts: Buffer[] = [];
    return {
      write: async (chunk) => void parts.push(chunk),
      end: async () => void files.set(name, Buffer.concat(parts)),
    };
  });
  expect([...files.keys()]).toEqual(['manifest.json', 'boilerhouse.db']);
  const manifest = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '') as BackupManifest;
  const database = files.get('boilerhouse.db') as Buffer;
  expect(manifest).toMatchObject({
    daemon: harness.boilerhouse.daemonId,
    secret_key: { source: 'environment', key_id: keyId(secretKey) },
    files: { 'boilerhouse.db': { bytes: database.length, sha256: sha256Of(database) } },
    contents: { instances: 1 },
  });
  expect(manifest.files['secret.key']).toBeUndefined();
  expect(files.get('manifest.json')?.toString('utf8')).not.toContain(secretKey.toString('base64'));

  // The copy is a database of its own (no WAL beside it), with alice's claim in it.
  const copyPath = join(harness.dataDir, 'copy-under-test.db');
  await writeFile(copyPath, database);
  const copy = new DatabaseSync(copyPath, { readOnly: true });
  expect(copy.prepare("SELECT tenant FROM instances WHERE phase = 'claimed'").all()).toEqual([
    { tenant: 'alice' },
  ]);
  copy.close();
  // Nothing of the copy stays in the data directory.
  expect((await readdir(harness.dataDir)).filter((name) => name.startsWith('.backup-'))).toEqual([]);
});

test('only an admin token takes a backup', async () => {
  const created = await api.request('/api/v1/tokens', {
    method: 'POST',
    body: JSON.stringify({ name: 'reader', scopes: ['read', 'tenants:write', 'workloads:write'] }),
  });
  const { token } = await created.json();
  const refused = await api.raw('/api/v1/backup', { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status).toBe(403);
  expect((await refused.json()).error.message).toContain('admin');
});
