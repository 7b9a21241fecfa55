/** The dashboard's files at `/`: types, caching, page fallback, compression, and a missing build. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestApi, testApi } from '../testing/api.ts';
import { type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness;
let api: TestApi;
let dist: string;

const INDEX =
  '<!doctype html><title>Boilerhouse</title><script type="module" src="/assets/app-1a2b3c.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))});\n`;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'boilerhouse-dashboard-dist-'));
  await mkdir(join(dist, 'assets'));
  await writeFile(join(dist, 'index.html'), INDEX);
  await writeFile(join(dist, 'assets', 'app-1a2b3c.js'), SCRIPT);
  await writeFile(join(dist, 'assets', 'app-1a2b3c.js.br'), brotliCompressSync(SCRIPT));
  await writeFile(join(dist, 'assets', 'app-1a2b3c.js.gz'), gzipSync(SCRIPT));
  await writeFile(join(dist, 'assets', 'style-9f8e7d.css'), 'body { margin: 0 }\n');
  harness = await startHarness({}, { start: false });
  api = testApi(harness, { dashboardDir: dist });
});

afterAll(async () => {
  await harness.cleanup();
  await rm(dist, { recursive: true, force: true });
});

test('index.html at / and for every page path, never cached stale, with a strict content policy', async () => {
  for (const path of ['/', '/tenants', '/tenants/alice%40example.com', '/pools/echo', '/events?type=pool']) {
    const response = await api.raw(path);
    expect([path, response.status]).toEqual([path, 200]);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await response.text()).toBe(INDEX);
  }
});

test('hashed assets have their type and are cached for good; a missing file is a 404, not the page', async () => {
  const script = await api.raw('/assets/app-1a2b3c.js');
  expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(await script.text()).toBe(SCRIPT);
  const style = await api.raw('/assets/style-9f8e7d.css');
  expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  expect((await api.raw('/assets/gone-000000.js')).status).toBe(404);
  expect((await api.raw('/favicon.ico')).status).toBe(404);
});

test('brotli or gzip when the client accepts it, the build’s own copies; identity otherwise', async () => {
  const br = await api.raw('/assets/app-1a2b3c.js', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
  expect(br.headers.get('content-encoding')).toBe('br');
  expect(br.headers.get('vary')).toBe('Accept-Encoding');
  expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(SCRIPT);
  const gz = await api.raw('/assets/app-1a2b3c.js', { headers: { 'Accept-Encoding': 'gzip, br;q=0' } });
  expect(gz.headers.get('content-encoding')).toBe('gzip');
  expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(SCRIPT);
  const plain = await api.raw('/assets/app-1a2b3c.js', { headers: { 'Accept-Encoding': 'identity' } });
  expect(plain.headers.get('content-encoding')).toBeNull();
  expect(Number(plain.headers.get('content-length'))).toBe(SCRIPT.length);
});

test('a file the client holds is not sent again (ETag, 304)', async () => {
  const first = await api.raw('/assets/app-1a2b3c.js');
  const etag = first.headers.get('etag') as string;
  expect(etag).toMatch(/^"[\w-]{22}"$/);
  const again = await api.raw('/assets/app-1a2b3c.js', { headers: { 'If-None-Match': etag } });
  expect(again.status).toBe(304);
  expect(await again.text()).toBe('');
});

test('the API keeps its own answers: JSON errors, 405, metrics and auth are not the dashboard’s', async () => {
  const missing = await api.raw('/api/v1/nothing-here');
  expect(missing.status).toBe(404);
  expect((await missing.json()).error.code).toBe('not_found');
  expect((await api.raw('/api/v1/tenants/alice/claim')).status).toBe(405);
  expect((await api.raw('/api/v1/pools')).status).toBe(401);
  expect((await api.raw('/api')).status).toBe(404);
});

test('a missing build is a page naming the command that builds it; a build made later is served at once', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'boilerhouse-dashboard-none-'));
  try {
    const later = testApi(harness, { dashboardDir: empty });
    const response = await later.raw('/');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    expect(page).toContain('The dashboard is not built');
    expect(page).toContain('npm run build:dashboard');

    await writeFile(join(empty, 'index.html'), '<!doctype html><title>v1</title>');
    expect(await (await later.raw('/pools/echo')).text()).toContain('v1');
    // A rebuild (a new index.html) is read again.
    await writeFile(join(empty, 'index.html'), '<!doctype html><title>v2</title>');
    const future = new Date(Date.now() + 5_000);
    await utimes(join(empty, 'index.html'), future, future);
    expect(await (await later.raw('/')).text()).toContain('v2');
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});
