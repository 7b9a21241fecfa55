/**
 * The dashboard in Debian's chromium (playwright-core), against a real daemon with real containers: log
 * in, watch a pool fill, claim and release a tenant and see it appear elsewhere live, restore an older
 * save, set and delete secrets, filter the live events, see failures surface, and the 401/403 paths; at
 * 1280 px and at a phone's width. Each page's screenshot goes to .data/screenshots/ (not committed).
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { saveBase, saveKey } from '../../boilerhouse/src/state/keys.ts';
import { LocalSink } from '../../boilerhouse/src/state/sinks/local.ts';
import { counter, echoWorkload } from '../../boilerhouse/src/testing/harness.ts';
import { type ServedDashboard, serveDashboard } from './served-dashboard.ts';

const SCREENSHOTS = new URL('../../../.data/screenshots/', import.meta.url).pathname;
const UI_TIMEOUT = 20_000;

let served: ServedDashboard;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Full page loads of `page`: the dashboard must never need one after logging in. */
let loads = 0;

const vaultWorkload = () =>
  echoWorkload({
    'id: echo': 'id: vault',
    'name: HTTP echo': 'name: Echo with secrets',
    'min_idle: 2': 'min_idle: 0',
    '  state:\n    target: /data': '  state:\n    target: /data\n  secrets:\n    target: /secrets/.env',
  });

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  served = await serveDashboard({
    'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }),
    'vault.yaml': await vaultWorkload(),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('load', () => loads++);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

const shot = (target: Page, name: string) =>
  target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** The tenant card of a workload on the tenant page. */
const card = (target: Page, workload: string) => target.locator(`article[data-workload="${workload}"]`);

async function logIn(target: Page, token: string): Promise<void> {
  await target.getByLabel('API token').fill(token);
  await target.getByRole('button', { name: 'Log in' }).click();
}

test('a wrong token is refused with the daemon’s reason; the admin key logs in and the stream goes live', async () => {
  await page.goto(served.url);
  await expect.poll(() => page.getByLabel('API token').isVisible()).toBe(true);
  await logIn(page, 'not-the-key-at-all-0123456789');
  await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor();
  expect(await page.getByRole('alert').textContent()).toContain('the token is not valid');
  await shot(page, 'login-refused');
  await logIn(page, served.key);
  await page.getByRole('heading', { name: 'Pools' }).waitFor();
  await page.locator('[data-live="live"]').waitFor();
  expect(await page.locator('[data-caller="admin"]').textContent()).toBe(
    'admin key · every tenant and workload',
  );
  // The token stays in this tab's session storage, never in the address.
  expect(await page.evaluate(() => sessionStorage.getItem('boilerhouse.token'))).toBe(served.key);
  expect(page.url()).not.toContain(served.key);
  loads = 0;
});

test('scaling a pool from its page fills it, and the counts follow live', async () => {
  await page.locator('article[data-pool="echo"] h3 a').click();
  await page.getByRole('heading', { name: 'pool echo' }).waitFor();
  await page.getByText('No instances').waitFor();
  await page.getByText('Valid · loaded as version').waitFor();
  const form = page.getByRole('form', { name: 'scale' });
  await form.getByLabel('min idle').fill('2');
  await form.getByRole('button', { name: 'Scale' }).click();
  await expect.poll(() => page.locator('[data-count="ready"]').textContent(), { timeout: 60_000 }).toBe('2');
  await expect.poll(() => page.locator('tr[data-phase="ready"]').count()).toBe(2);
  await shot(page, 'pool');
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('article[data-pool="echo"] [data-count="ready"]').filter({ hasText: '2' }).waitFor();
  expect(loads).toBe(0);
});

test('a claim made in the UI appears live in another window; the instance’s output is followed', async () => {
  const watcher = await context.newPage();
  watcher.setDefaultTimeout(UI_TIMEOUT);
  await watcher.goto(`${served.url}/tenants`);
  // Session storage is per tab: a new tab logs in again.
  await logIn(watcher, served.key);
  await watcher.getByText('No tenant holds an instance now').waitFor();

  await page.getByRole('link', { name: 'Tenants' }).click();
  await page.getByPlaceholder('Find or open a tenant id…').fill('alice');
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('heading', { name: 'tenant alice' }).waitFor();
  await card(page, 'echo').getByRole('button', { name: 'Claim' }).click();
  const claimed = card(page, 'echo').locator('[data-claim-path]');
  await claimed.waitFor();
  expect(await claimed.getAttribute('data-claim-path')).toBe('warm');

  await watcher.locator('tr[data-tenant="alice"]').waitFor();
  expect(await watcher.locator('tr[data-tenant="alice"]').textContent()).toContain('claimed');
  await watcher.close();

  await card(page, 'echo').getByRole('button', { name: 'Follow logs' }).click();
  await expect.poll(() => page.getByTestId('logs').textContent()).toContain('echo listening on :8080');
  await shot(page, 'tenant');
  expect(loads).toBe(0);
});

test('release saves; an older save is restored from the UI and the next claim starts from it', async () => {
  const echo = card(page, 'echo');
  const endpoint = async () => (await echo.locator('a.endpoint').first().getAttribute('href')) as string;
  expect(await counter(await endpoint())).toBe(1);
  await echo.getByRole('button', { name: 'Release' }).click();
  await echo.locator('tr[data-save="1"].current').waitFor();

  await echo.getByRole('button', { name: 'Claim' }).click();
  await echo.locator('[data-claim-path="hit"]').waitFor();
  expect(await counter(await endpoint())).toBe(2);
  await echo.getByRole('button', { name: 'Release' }).click();
  await echo.locator('tr[data-save="2"].current').waitFor();

  await echo.locator('tr[data-save="1"]').getByRole('button', { name: 'Restore' }).click();
  await echo.getByRole('button', { name: 'Yes, restore' }).click();
  await echo.getByText('Save #1 is current again (as #3)').waitFor();
  await echo.locator('tr[data-save="3"].current').waitFor();
  await shot(page, 'tenant-restored');

  // Not a hit: the reserved instance was saved and destroyed by the restore.
  await echo.getByRole('button', { name: 'Claim' }).click();
  await echo.locator('[data-claim-path="warm"], [data-claim-path="cold"]').waitFor();
  // Save 1 held counter 1: the restored state counts on from there.
  expect(await counter(await endpoint())).toBe(2);

  // A save whose manifest is torn in the sink shows as damaged, with why, and cannot be restored.
  const sink = new LocalSink(join(served.harness.dataDir, 'sinks', 'echo'));
  await sink.put(saveKey(saveBase(undefined, 'alice', 'echo'), 2), Buffer.from('{"version":1,"se'));
  await echo.getByRole('button', { name: 'Release' }).click();
  await echo.locator('tr[data-save="4"].current').waitFor();
  const damaged = echo.locator('tr[data-damaged-save="2"]');
  expect(await damaged.textContent()).toMatch(/^#2damaged: .*save 2 is damaged/);
  expect(await damaged.getByRole('button').count()).toBe(0);
  expect(await echo.locator('tr[data-save="2"]').count()).toBe(0);
  await shot(page, 'tenant-damaged-save');
  expect(loads).toBe(0);
});

test('secrets are set and deleted by name; values are never shown', async () => {
  const vault = card(page, 'vault');
  const VALUE = 'sk-test-do-not-show-0123';
  const form = vault.getByRole('form', { name: 'set a secret' });
  for (const name of ['API_KEY', 'OTHER']) {
    await form.getByLabel('name').fill(name);
    await form.getByLabel('value').fill(VALUE);
    await form.getByRole('button', { name: 'Set' }).click();
    await vault.locator(`li[data-secret="${name}"]`).waitFor();
  }
  expect(await page.content()).not.toContain(VALUE);
  await vault.locator('li[data-secret="API_KEY"]').getByRole('button', { name: 'Delete' }).click();
  await vault.getByRole('button', { name: 'Yes, delete' }).click();
  await vault.locator('li[data-secret="API_KEY"]').waitFor({ state: 'detached' });
  const names = await (await served.api.request('/api/v1/tenants/alice/secrets')).json();
  expect(names.secrets).toEqual([expect.objectContaining({ workload: 'vault', keys: ['OTHER'] })]);
});

test('the events page filters the live stream by tenant and type', async () => {
  await page.getByRole('link', { name: 'Events' }).click();
  await page.getByRole('heading', { name: 'Events' }).waitFor();
  const filters = page.getByRole('form', { name: 'filters' });
  await filters.getByLabel('tenant').fill('alice');
  await expect.poll(() => page.url()).toContain('tenant=alice');
  // Alice's claims, releases and saves, and nobody else's events.
  await expect
    .poll(async () => {
      const abouts = await page.locator('li.event .event-about').allTextContents();
      return abouts.length > 3 && abouts.every((about) => about.includes('alice'));
    })
    .toBe(true);

  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await filters.getByLabel('type').selectOption('pool.*');
  served.harness.boilerhouse.activity.record({
    type: 'pool.warning',
    workload: 'echo',
    message: 'a live marker',
  });
  await page.locator('li.event').filter({ hasText: 'a live marker' }).waitFor();
  const types = await page.locator('li.event').evaluateAll((items) => items.map((item) => item.dataset.type));
  expect(types.every((type) => type?.startsWith('pool.'))).toBe(true);
  await shot(page, 'events');
  expect(loads).toBe(0);
});

test('failures surface at the top of the overview as they happen; an invalid file shows on its pool', async () => {
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByText('Needs attention').waitFor();
  const [ready] = served.harness.boilerhouse.instances({ workload: 'echo', phase: 'ready' });
  expect(ready?.containerId).toBeTruthy();
  await promisify(execFile)('docker', ['kill', ready?.containerId as string]);
  await page.locator('[data-attention^="event:"]').filter({ hasText: 'instance.failed' }).waitFor();
  expect(await page.locator('.attention').textContent()).toContain(`instance ${ready?.id} failed`);

  await writeFile(
    join(served.harness.workloadsDir, 'vault.yaml'),
    'id: vault\nimage: boilerhouse/echo:latest\nspool: {}\n',
  );
  await page.locator('.attention li').filter({ hasText: 'vault.yaml is not valid' }).waitFor();
  await shot(page, 'overview-failing');
  await page.locator('article[data-pool="vault"] h3 a').click();
  await page.locator('[data-validation="invalid"]').waitFor();
  expect(await page.locator('[data-validation="invalid"]').textContent()).toContain('spool');
  await shot(page, 'pool-invalid-file');
  expect(loads).toBe(0);
});

test('a file’s problem leaves “Needs attention” as soon as it is fixed, or its file deleted', async () => {
  await page.getByRole('link', { name: 'Overview' }).click();
  const vault = page.locator('[data-attention="problem:invalid:vault.yaml"]');
  await vault.waitFor();
  await writeFile(join(served.harness.workloadsDir, 'vault.yaml'), await vaultWorkload());
  await vault.waitFor({ state: 'detached' });
  // The file's events said so, and are not shown in its place.
  expect(await page.locator('.attention').textContent()).not.toContain('vault.yaml');

  // A new file that never loaded: there is no pool to link to.
  const broken = join(served.harness.workloadsDir, 'broken.yaml');
  await writeFile(broken, 'id: broken\nimage: [boilerhouse/echo\n');
  const item = page.locator('[data-attention="problem:invalid:broken.yaml"]');
  await item.waitFor();
  expect(await item.textContent()).toContain('broken.yaml is not valid; not loaded');
  expect(await item.locator('a').count()).toBe(0);
  await shot(page, 'overview-broken-file');
  await rm(broken);
  await item.waitFor({ state: 'detached' });
  expect(loads).toBe(0);
});

test('a token without a scope gets the scope named; a revoked token returns to the login page with why', async () => {
  const made = await served.api.request('/api/v1/tokens', {
    method: 'POST',
    body: JSON.stringify({ name: 'dashboard reader', scopes: ['read'] }),
  });
  const { id, token } = await made.json();
  const reader = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const view = await reader.newPage();
  view.setDefaultTimeout(UI_TIMEOUT);
  await view.goto(`${served.url}/tenants/bob`);
  await logIn(view, token);
  await card(view, 'echo').getByRole('button', { name: 'Claim' }).click();
  await card(view, 'echo').getByRole('alert').filter({ hasText: 'tenants:claim' }).waitFor();

  expect((await served.api.request(`/api/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(204);
  // The next thing that happens makes the page refetch, and the daemon refuses the token.
  served.harness.boilerhouse.activity.record({
    type: 'pool.warning',
    workload: 'echo',
    message: 'after revoke',
  });
  await view.getByText('The daemon refused the token').waitFor();
  await view.getByLabel('API token').waitFor();
  expect(await view.evaluate(() => sessionStorage.getItem('boilerhouse.token'))).toBeNull();
  await shot(view, 'login-after-401');
  await reader.close();
});

test('a token limited to alice says so in the frame and sees only alice', async () => {
  const bob = await served.api.request('/api/v1/tenants/bob/claim', {
    method: 'POST',
    body: '{"workload":"echo"}',
  });
  expect(bob.status).toBe(200);
  const made = await served.api.request('/api/v1/tokens', {
    method: 'POST',
    body: JSON.stringify({ name: 'alice front end', scopes: ['read'], tenants: ['alice'] }),
  });
  const { id, token } = await made.json();
  const limited = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const view = await limited.newPage();
  view.setDefaultTimeout(UI_TIMEOUT);
  await view.goto(`${served.url}/tenants`);
  await logIn(view, token);
  const caller = view.locator(`[data-caller="${id}"]`);
  await caller.waitFor();
  expect(await caller.textContent()).toBe('alice front end · only tenant alice');
  expect(await caller.getAttribute('title')).toBe('Scopes: read');
  await view.locator('tr[data-tenant="alice"]').waitFor();
  expect(await view.locator('tr[data-tenant]').count()).toBe(1);
  await shot(view, 'limited-token');
  await limited.close();
});

test('every page fits a 1280 px screen and a phone, without sideways scrolling', async () => {
  const pages = ['/', '/pools/echo', '/tenants', '/tenants/alice', '/events'];
  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    const sized = await browser.newContext({
      viewport,
      isMobile: name === 'phone',
      hasTouch: name === 'phone',
    });
    const view = await sized.newPage();
    view.setDefaultTimeout(UI_TIMEOUT);
    await view.goto(served.url);
    await logIn(view, served.key);
    for (const path of pages) {
      await view.goto(`${served.url}${path}`);
      await view.locator('main.page h1, main.page h2').first().waitFor();
      await view.locator('[role="status"][aria-busy="true"]').first().waitFor({ state: 'detached' });
      // clientWidth, not innerWidth: a phone widens its layout viewport to fit content that overflows.
      const overflow = (await view.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      )) as number;
      expect([name, path, overflow]).toEqual([name, path, expect.toSatisfy((px: number) => px <= 0)]);
      await shot(view, `${name}${path.replaceAll('/', '-').replace(/-$/, '') || '-overview'}`);
    }
    await sized.close();
  }
});
