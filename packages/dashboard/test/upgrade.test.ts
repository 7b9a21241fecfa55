/**
 * Issue 18 in the dashboard (Debian's chromium, a real daemon with real containers): after a workload's
 * file changes, the pool page shows which instances are of the old version and moves their tenants now
 * from a button, each saved first; the tenant page shows its instance's version.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { counter, echoWorkload } from '../../boilerhouse/src/testing/harness.ts';
import { type ServedDashboard, serveDashboard } from './served-dashboard.ts';

const SCREENSHOTS = new URL('../../../.data/screenshots/', import.meta.url).pathname;
const V1 = { 'min_idle: 2': 'min_idle: 0', 'interval: 30s': 'interval: 1h' };

let served: ServedDashboard;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  served = await serveDashboard({ 'echo.yaml': await echoWorkload(V1) });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

test('the pool page shows an old version and moves its tenant now; the tenant page shows the version', async () => {
  const claim = await (
    await served.api.request('/api/v1/tenants/alice/claim', {
      method: 'POST',
      body: JSON.stringify({ workload: 'echo' }),
      headers: { 'Content-Type': 'application/json' },
    })
  ).json();
  const old = claim.instance.id as string;
  await counter(claim.endpoints[0].url);
  const { workload } = await served.harness.boilerhouse.applyWorkload(
    'echo',
    await echoWorkload({ ...V1, 'STATE_DIR: /data': 'STATE_DIR: /data\n  RELEASE: "2"' }),
  );

  await page.goto(`${served.url}/pools/echo`);
  await page.getByLabel('API token').fill(served.key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'pool echo' }).waitFor();
  await page
    .locator('[data-old-versions="1"]')
    .getByText('1 instance(s) on an old version (1 claimed)')
    .waitFor();
  await page.locator(`tr[data-instance="${old}"] [data-version-status="old"]`).waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'pool-old-version.png'), fullPage: true });

  await page.getByRole('button', { name: 'Move tenants now' }).click();
  await page.getByRole('button', { name: 'Yes, move tenants now' }).click();
  await page.locator('[data-upgrade-outcome] li[data-tenant="alice"][data-outcome="moved"]').waitFor();
  await page.locator(`tr[data-instance="${old}"]`).waitFor({ state: 'detached' });
  await page.locator('tr[data-phase="claimed"] [data-version-status="current"]').waitFor();
  expect(await page.locator('.old-versions .note.warning').count()).toBe(0);
  await page.screenshot({ path: join(SCREENSHOTS, 'pool-upgraded.png'), fullPage: true });

  await page.getByRole('link', { name: 'alice' }).first().click();
  await page.getByRole('heading', { name: 'tenant alice' }).waitFor();
  const facts = page.locator('article[data-workload="echo"] .facts').first();
  await facts.locator('[data-version-status="current"]').getByText(workload.hash).waitFor();
  const [now] = served.harness.boilerhouse.tenant('alice').instances;
  expect(await counter(now?.endpoints[0]?.url as string)).toBe(2);
});
