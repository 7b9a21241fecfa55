/**
 * NanoClaw's web chat in a real Chromium, through Boilerhouse's gateway only (issue 16), on the real engine:
 * the repository's workload, state in s3rver, the agent image, the scripted model. Alice's chat is opened in
 * the path form (/nanoclaw/alice/ on the gateway's address) and in the host form (her own name under
 * tenants.test, which Chromium resolves to loopback by a rule, no DNS); Bob's in the host form, in another
 * tab of the same browser. Each logs in with the tenant's web token link (`<address>/?token=`). Replies
 * arrive live over the page's stream through the gateway. Alice is then released (destroyed: no
 * reservation), and a message typed in her still-open page is taken once the gateway has woken her (a
 * cold claim that restores her state), and answered; her pages show the answer without a reload, once
 * their streams are open again (the gateway keeps a page's end of a stream open when the instance's end
 * dies, so the page's own watchdog reopens it after two missed pings).
 *
 * The page only ever appends messages and is never reloaded here, so what a page shows at the end is
 * everything it ever showed.
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { type S3Server, startS3Server } from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { type Harness, startHarness, waitFor } from '../../packages/boilerhouse/src/testing/harness.ts';
import { containersLabelled, removeContainers } from './testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from './testing/nanoclaw-workload.ts';
import { type ScriptedModel, startScriptedModel } from './testing/scripted-model.ts';

const SCREENSHOTS = new URL('../../.data/screenshots/', import.meta.url).pathname;
const DOMAIN = 'tenants.test';
const API_KEY = 'e2e-model-key-never-logged';
const TOKENS = { alice: 'alice-web-token-through-the-gateway', bob: 'bob-web-token-through-the-gateway' };
let model: ScriptedModel;
let s3: S3Server;
let harness: Harness;
let browser: Browser;

beforeAll(async () => {
  model = await startScriptedModel();
  s3 = await startS3Server('nanoclaw-gateway-browser');
  const workload = await nanoclawWorkload({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    intervalSaveMs: 2_000,
    minIdle: 0,
    maxSize: 2,
    // Released only when the test says so.
    fileIdleTtlMs: 600_000,
    affinityTimeoutMs: 0,
  });
  harness = await startHarness(
    { 'nanoclaw.yaml': workload },
    {
      env: S3_ENV,
      hostPorts: [Number(new URL(model.server.url).port)],
      gateway: { host: '127.0.0.1', port: 0, domain: DOMAIN },
    },
  );
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Tests run as root in a container, where Chromium's sandbox cannot start. Every tenant's host name is
    // the gateway's loopback address, as a wildcard DNS record would make it.
    args: ['--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`],
  });
});

afterAll(async () => {
  await browser?.close();
  const daemonId = harness?.boilerhouse.daemonId;
  for (const instance of harness?.boilerhouse.instances() ?? [])
    await harness.boilerhouse.destroy(instance.id).catch(() => undefined);
  await harness?.cleanup();
  if (daemonId !== undefined) {
    await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  }
  await s3?.stop();
  await model?.close();
});

type Tenant = keyof typeof TOKENS;
const pathForm = (tenant: Tenant) => `${harness.boilerhouse.gateway?.url}/nanoclaw/${tenant}`;
function hostForm(tenant: Tenant): string {
  const url = harness.boilerhouse.gateway?.tenantUrl('nanoclaw', tenant);
  if (url === undefined || !new URL(url).hostname.endsWith(`.${DOMAIN}`))
    throw new Error(`no host-form address for ${tenant}: ${url}`);
  return url;
}

async function claim(tenant: Tenant): Promise<void> {
  harness.boilerhouse.putSecrets(tenant, 'nanoclaw', {
    ANTHROPIC_BASE_URL: model.server.url,
    ANTHROPIC_API_KEY: API_KEY,
    NANOCLAW_WEB_TOKEN: TOKENS[tenant],
    // NanoClaw's Host check: the tenant's own host-form name is one its chat is served on.
    NANOCLAW_WEB_HOSTS: new URL(hostForm(tenant)).hostname,
  });
  await harness.boilerhouse.claim(tenant, 'nanoclaw');
}

/** Opens the tenant's web token link at `address` in a new tab; the page it lands on. */
async function logIn(context: BrowserContext, address: string, tenant: Tenant): Promise<Page> {
  const page = await context.newPage();
  const response = await page.goto(`${address}/?token=${TOKENS[tenant]}`);
  expect(response?.status()).toBe(200);
  // The token is gone from the address bar, and the page is still under the tenant's address.
  expect(page.url()).toBe(`${address}/?`);
  // Marks this document: still there at the end means the page was never reloaded.
  await page.evaluate(() => {
    (globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true;
  });
  return page;
}

const neverReloaded = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce === true);
const texts = (page: Page) => page.locator('#log .msg .text').allTextContents();
const replies = (page: Page) => page.locator('#log .msg[data-from-assistant="true"] .text').allTextContents();

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.click('button');
}

async function expectShownOnce(page: Page, text: string): Promise<void> {
  await expect.poll(() => texts(page), { timeout: 120_000, interval: 250 }).toContain(text);
  expect((await texts(page)).filter((shown) => shown === text)).toHaveLength(1);
}

test('the web chat through the gateway: logged in by link, replies live, tenants apart, a released tenant woken by the open page', async () => {
  const bh = harness.boilerhouse;
  model.on('alice-path', () => [{ type: 'text', text: 'hello alice, over the path form' }]);
  model.on('alice-host', () => [{ type: 'text', text: 'hello alice, over the host form' }]);
  model.on('bob-host', () => [{ type: 'text', text: 'hello bob, over the host form' }]);
  model.on('alice-after-release', () => [{ type: 'text', text: 'alice answered after her wake' }]);
  await claim('alice');
  await claim('bob');
  const context = await browser.newContext();

  // Path form: the page, its API and its stream under /nanoclaw/alice/.
  const alicePath = await logIn(context, pathForm('alice'), 'alice');
  await send(alicePath, 'alice-path: are you there?');
  await expectShownOnce(alicePath, 'alice-path: are you there?');
  await expectShownOnce(alicePath, 'hello alice, over the path form');

  // Host form, another tab: her history, and what either tab sends arrives live in both.
  const aliceHost = await logIn(context, hostForm('alice'), 'alice');
  await expectShownOnce(aliceHost, 'hello alice, over the path form');
  await send(aliceHost, 'alice-host: and here?');
  for (const page of [aliceHost, alicePath]) {
    await expectShownOnce(page, 'alice-host: and here?');
    await expectShownOnce(page, 'hello alice, over the host form');
  }

  const bob = await logIn(context, hostForm('bob'), 'bob');
  await send(bob, 'bob-host: hi');
  await expectShownOnce(bob, 'hello bob, over the host form');

  // Each cookie belongs to the address its link was opened at: the host form's to that tenant's origin, the
  // path form's to that tenant's prefix on the gateway's own address.
  const cookies = async (url: string) =>
    (await context.cookies(url)).filter((cookie) => cookie.name === 'nanoclaw_token').map((c) => c.value);
  expect(await cookies(`${hostForm('alice')}/`)).toEqual([TOKENS.alice]);
  expect(await cookies(`${hostForm('bob')}/`)).toEqual([TOKENS.bob]);
  expect(await cookies(`${pathForm('alice')}/`)).toEqual([TOKENS.alice]);
  expect(await cookies(`${pathForm('bob')}/`)).toEqual([]);

  // Released: saved, then destroyed (no reservation). The pages stay open.
  await bh.release('alice', 'nanoclaw');
  await waitFor(() => bh.tenant('alice').instances.length === 0, 60_000, 'alice released');
  await send(alicePath, 'alice-after-release: still there?');
  for (const page of [alicePath, aliceHost]) {
    await expectShownOnce(page, 'alice-after-release: still there?');
    await expectShownOnce(page, 'alice answered after her wake');
  }
  // Woken once by the gateway, for the open pages' requests (the message sent, their streams reopened).
  const woken = bh.events(1000).filter((event) => event.type === 'tenant.woken' && event.tenant === 'alice');
  expect(woken.map((event) => event.data)).toMatchObject([{ trigger: 'request', path: 'cold' }]);

  await mkdir(SCREENSHOTS, { recursive: true });
  await alicePath.screenshot({ path: join(SCREENSHOTS, 'nanoclaw-gateway-alice.png'), fullPage: true });
  await bob.screenshot({ path: join(SCREENSHOTS, 'nanoclaw-gateway-bob.png'), fullPage: true });

  // Nothing lost, nothing twice, nothing of the other tenant's, and no page reloaded.
  const alicesTexts = [
    'alice-path: are you there?',
    'hello alice, over the path form',
    'alice-host: and here?',
    'hello alice, over the host form',
    'alice-after-release: still there?',
    'alice answered after her wake',
  ];
  for (const page of [alicePath, aliceHost]) {
    expect(await texts(page)).toEqual(alicesTexts);
    expect(await neverReloaded(page)).toBe(true);
  }
  expect(await texts(bob)).toEqual(['bob-host: hi', 'hello bob, over the host form']);
  expect(await replies(bob)).toEqual(['hello bob, over the host form']);
  expect(await neverReloaded(bob)).toBe(true);
  expect(model.requestsFor('alice-after-release')).toHaveLength(1);
  await context.close();
}, 360_000);
