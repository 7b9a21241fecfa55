/**
 * The dashboard's weight and first load. Builds it from the current sources, then reports its files' sizes
 * as sent (raw, gzip, brotli: the build's own .gz/.br copies, which the daemon sends) and its load times in
 * Debian's chromium over loopback, against a real Boilerhouse with a real echo pool:
 *
 *   cold     a fresh browser context (empty cache): navigation start to the load event, and to the first
 *            data on screen (a pool card drawn from the API)
 *   warm     a reload in the same context (hashed assets from cache, index.html revalidated)
 *   baseline a one-line HTML page from a plain node:http server on the same host, in the same run
 *
 * Samples of the three alternate. Targets: first load under 1 s, under 300 KB of compressed JS.
 *
 *   npm run bench:dashboard -- [--samples 20] [--json]
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { echoWorkload } from '../packages/boilerhouse/src/testing/harness.ts';
import { serveDashboard } from '../packages/dashboard/test/served-dashboard.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    samples: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});
const samples = Number(flags.samples);
const TARGET_LOAD_MS = 1000;
const TARGET_JS_GZIP_BYTES = 300 * 1024;
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

interface Sizes {
  files: number;
  raw: number;
  gzip: number;
  brotli: number;
}

/** Sizes of the build's files of one kind (`.js`, `.css`, `.html`), as stored and as sent compressed. */
async function sizesOf(dist: string, extension: string): Promise<Sizes> {
  const sizes: Sizes = { files: 0, raw: 0, gzip: 0, brotli: 0 };
  for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(extension)) continue;
    const path = join(entry.parentPath, entry.name);
    const raw = (await stat(path)).size;
    const size = async (suffix: string) =>
      (await stat(`${path}.${suffix}`).catch(() => undefined))?.size ?? raw;
    sizes.files++;
    sizes.raw += raw;
    sizes.gzip += await size('gz');
    sizes.brotli += await size('br');
  }
  return sizes;
}

say('building the dashboard and starting a Boilerhouse with an echo pool...');
const served = await serveDashboard({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 1' }) });
const baselinePage = '<!doctype html><html lang="en"><title>baseline</title><p>baseline</p></html>';
const baseline = createServer((_, response) => {
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(baselinePage);
});
await new Promise<void>((resolve) => baseline.listen(0, '127.0.0.1', resolve));
const baselinePort = (baseline.address() as { port: number }).port;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });

// Marks when the first pool card is drawn (the first data from the API), in the page's own clock. A
// string: it runs in the page, before the dashboard's own scripts.
const MARK_FIRST_DATA = `
  const found = () => {
    if (document.querySelector('[data-pool]') === null) return false;
    window.firstDataMs = performance.now();
    return true;
  };
  const observer = new MutationObserver(() => { if (found()) observer.disconnect(); });
  document.addEventListener('DOMContentLoaded', () => {
    if (!found()) observer.observe(document.body, { childList: true, subtree: true });
  });
`;

async function timings(page: import('playwright-core').Page, firstData: boolean) {
  // Polled with evaluate: the dashboard's content policy forbids the eval behind waitForFunction.
  for (let waited = 0; firstData && (await page.evaluate('window.firstDataMs')) === undefined; waited += 10) {
    if (waited > 15_000) throw new Error('no pool card was drawn within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return page.evaluate(`({
    load: performance.getEntriesByType('navigation')[0].loadEventEnd,
    firstData: window.firstDataMs,
    transferred: performance.getEntriesByType('resource').reduce((sum, r) => sum + r.transferSize, performance.getEntriesByType('navigation')[0].transferSize),
  })`) as Promise<{ load: number; firstData: number | undefined; transferred: number }>;
}

try {
  await served.harness.boilerhouse.instances(); // the pool fills while the browser warms up
  const cold = { load: [] as number[], firstData: [] as number[], transferred: [] as number[] };
  const warm = { load: [] as number[], firstData: [] as number[] };
  const base: number[] = [];
  for (let i = 0; i < samples + 1; i++) {
    // The first round warms chromium itself up and is not counted.
    const counted = i > 0;
    const context = await browser.newContext();
    await context.addInitScript(
      (token: string) => sessionStorage.setItem('boilerhouse.token', token),
      served.key,
    );
    await context.addInitScript(MARK_FIRST_DATA);
    const page = await context.newPage();
    await page.goto(served.url, { waitUntil: 'load' });
    const first = await timings(page, true);
    await page.reload({ waitUntil: 'load' });
    const again = await timings(page, true);
    await context.close();

    const plain = await browser.newContext();
    const basePage = await plain.newPage();
    await basePage.goto(`http://127.0.0.1:${baselinePort}/`, { waitUntil: 'load' });
    const baseLoad = (await timings(basePage, false)).load;
    await plain.close();
    if (!counted) continue;
    cold.load.push(first.load);
    cold.firstData.push(first.firstData as number);
    cold.transferred.push(first.transferred);
    warm.load.push(again.load);
    warm.firstData.push(again.firstData as number);
    base.push(baseLoad);
  }

  const js = await sizesOf(served.dist, '.js');
  const css = await sizesOf(served.dist, '.css');
  const html = await sizesOf(served.dist, '.html');
  const index = await readFile(join(served.dist, 'index.html'), 'utf8');
  const rows: Record<string, Distribution> = {
    'baseline: one-line page, load event': distribution(base),
    'cold: load event': distribution(cold.load),
    'cold: first data (a pool card)': distribution(cold.firstData),
    'warm reload: load event': distribution(warm.load),
    'warm reload: first data': distribution(warm.firstData),
  };
  const coldLoad = rows['cold: load event'] as Distribution;
  const report = {
    samples,
    bytes: { js, css, html },
    transferredOnColdLoadBytes: distribution(cold.transferred).p50,
    timingsMs: rows,
    targets: {
      jsGzipUnder300KB: js.gzip < TARGET_JS_GZIP_BYTES,
      coldLoadP95Under1s: coldLoad.p95 < TARGET_LOAD_MS,
    },
    scripts: [...index.matchAll(/<script[^>]*src="([^"]+)"/g)].map((match) => match[1]),
  };
  if (flags.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    console.log('bundle            files        raw       gzip     brotli');
    for (const [name, size] of Object.entries({ js, css, html })) {
      console.log(
        `${name.padEnd(16)} ${String(size.files).padStart(6)} ${kib(size.raw).padStart(10)} ${kib(size.gzip).padStart(10)} ${kib(size.brotli).padStart(10)}`,
      );
    }
    console.log(
      `JS gzip ${kib(js.gzip)} (target < 300 KB: ${report.targets.jsGzipUnder300KB ? 'met' : 'NOT met'}); a cold load transfers ${kib(report.transferredOnColdLoadBytes)} in all (brotli)\n`,
    );
    console.log(formatTable(rows, (rows['baseline: one-line page, load event'] as Distribution).p50));
    console.log(
      `\ncold load p95 ${coldLoad.p95.toFixed(1)} ms (target < ${TARGET_LOAD_MS} ms: ${report.targets.coldLoadP95Under1s ? 'met' : 'NOT met'})`,
    );
  }
} finally {
  await browser.close();
  await new Promise((resolve) => baseline.close(resolve));
  await served.close();
}
