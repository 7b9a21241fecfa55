/**
 * The browser end to end: a real host, the real agent image on the Docker engine (the Agent SDK and CLI
 * inside, Playwright's MCP server and Debian's Chromium), the scripted model server on loopback (reached
 * only through the host's model proxy), and Chromium on the web chat. A message in the chat asks the
 * agent to sign up on a page this test serves on Docker's bridge; the model opens it, types and fills the
 * form, submits it, takes a screenshot and sends it with send_file. The page's server sees the typed
 * values; the chat shows the screenshot; the container ran under the host's caps.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  dockerBridgeGateway,
  type MessagesRequest,
  type ModelServer,
  type ScriptedBlock,
  type ScriptedReply,
  startModelServer,
} from '../../nanoclaw-agent/src/testing/model-server.ts';
import { toolNames, toolResults, toolResultText } from '../../nanoclaw-agent/src/testing/requests.ts';
import { LABELS } from './agent/docker.ts';
import { loadConfig } from './config.ts';
import { silentLogger } from './log.ts';
import { type Nanoclaw, startNanoclaw } from './nanoclaw.ts';
import { launchBrowser } from './testing/browser.ts';
import { removeAgentContainersOf } from './testing/e2e-host.ts';
import { tempHome } from './testing/temp-home.ts';

const exec = promisify(execFile);
const TOKEN = 'browser-e2e-token-of-this-tenant';
const MIB = 1024 * 1024;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const FORM = `<!doctype html><title>Sign-up</title><h1>Sign up for the newsletter</h1>
<form method="post" action="/submit"><label>Name <input name="name"></label>
<label>Email <input name="email" type="email"></label><button type="submit">Send</button></form>`;

let model: ModelServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
let browser: Browser;
let site: Server;
let siteUrl: string;
const visits: Array<{ method: string; path: string; body: string; at: number }> = [];
/** When the model asked for each step, and when each request reached it. */
const times = { asked: 0, firstRequest: 0, navigateAsked: 0, navigated: 0 };
let hostConfig: Promise<Record<string, unknown>> | undefined;

/** The page's server, on Docker's bridge: the host's address there, which containers reach. */
async function startSite(): Promise<void> {
  const host = await dockerBridgeGateway();
  site = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      visits.push({ method: request.method ?? '', path: request.url ?? '', body, at: Date.now() });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      if (request.method === 'POST') {
        const form = new URLSearchParams(body);
        response.end(`<!doctype html><title>Thanks</title><h1>Thanks, ${form.get('name')}!</h1>`);
      } else response.end(FORM);
    });
  });
  await new Promise<void>((resolve) => site.listen(0, host, resolve));
  siteUrl = `http://${host}:${(site.address() as AddressInfo).port}/`;
}

/** The running agent container's HostConfig, found by the labels the host puts on it. */
async function agentHostConfig(): Promise<Record<string, unknown>> {
  const hostId = readFileSync(join(home.path, 'data', 'host_id'), 'utf8').trim();
  const { stdout: ids } = await exec('docker', ['ps', '-q', '--filter', `label=${LABELS.host}=${hostId}`]);
  const [id, ...others] = ids.trim().split('\n');
  if (id === undefined || id === '' || others.length > 0)
    throw new Error(`expected one running agent container, found: ${JSON.stringify(ids)}`);
  const { stdout } = await exec('docker', ['inspect', '--format', '{{json .HostConfig}}', id]);
  return JSON.parse(stdout);
}

/** The ref of the element a snapshot line names, e.g. `textbox "Name" [ref=e5]`, latest result first. */
function ref(results: string[], role: string, name: string): string {
  const pattern = new RegExp(`${role} "${name}"[^\\n]*\\[ref=(e\\d+)\\]`);
  for (const result of [...results].reverse()) {
    const found = pattern.exec(result)?.[1];
    if (found !== undefined) return found;
  }
  throw new Error(`no ${role} "${name}" in any snapshot so far:\n${results.join('\n---\n')}`);
}

const call = (name: string, input: Record<string, unknown>): ScriptedBlock => ({
  type: 'tool_use',
  name,
  input,
});
const browserCall = (name: string, input: Record<string, unknown>) => call(`mcp__browser__${name}`, input);

/**
 * The model's side: one step per tool result, as a model driving the browser would take them. An action's
 * own result names a snapshot file; the refs come from an explicit browser_snapshot, given in full.
 */
const results: string[] = [];
const answeredIds = new Set<string>();
const steps: Array<(results: string[]) => ScriptedBlock> = [
  () => browserCall('browser_navigate', { url: siteUrl }),
  () => browserCall('browser_snapshot', {}),
  (seen) =>
    browserCall('browser_type', {
      element: 'Name',
      target: ref(seen, 'textbox', 'Name'),
      text: 'Ada Lovelace',
    }),
  (seen) =>
    browserCall('browser_fill_form', {
      fields: [
        { name: 'Email', type: 'textbox', target: ref(seen, 'textbox', 'Email'), value: 'ada@example.test' },
      ],
    }),
  (seen) => browserCall('browser_click', { element: 'Send', target: ref(seen, 'button', 'Send') }),
  () => browserCall('browser_take_screenshot', { filename: 'screenshots/signed-up.png' }),
  () => call('mcp__nanoclaw__send_file', { path: 'screenshots/signed-up.png', caption: 'Signed up' }),
];

function respond(request: MessagesRequest): ScriptedReply {
  if (times.firstRequest === 0) {
    times.firstRequest = Date.now();
    // The container is up and waiting on this answer: look at what it was given.
    hostConfig = agentHostConfig();
    // Awaited by the test; a failure is its to report, not an unhandled rejection's.
    hostConfig.catch(() => undefined);
  }
  // A request sent again (the CLI retries) carries the same results: count each once.
  for (const result of toolResults(request)) {
    if (answeredIds.has(result.tool_use_id)) continue;
    answeredIds.add(result.tool_use_id);
    results.push(toolResultText(result));
  }
  if (results.length === 1 && times.navigated === 0) times.navigated = Date.now();
  const step = steps[results.length];
  if (step === undefined) return [{ type: 'text', text: 'Done: you are signed up.' }];
  if (results.length === 0) times.navigateAsked = Date.now();
  return [step(results)];
}

beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', 'nanoclaw-agent:latest'], { stdio: 'ignore' });
  await startSite();
  model = await startModelServer(respond, { host: '127.0.0.1' });
  home = await tempHome('nanoclaw-browser-e2e-');
  nanoclaw = await startNanoclaw(
    loadConfig({
      NANOCLAW_HOME: home.path,
      NANOCLAW_PORT: '0',
      NANOCLAW_WEB_TOKEN: TOKEN,
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: 'sk-ant-browser-e2e',
      IDLE_TIMEOUT: '60000',
      CONTAINER_TIMEOUT: '120000',
    }),
    { log: silentLogger },
  );
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await nanoclaw?.stop();
  if (home) await removeAgentContainersOf(home.path);
  await model?.close();
  await home?.remove();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});

it('the agent opens a page on the bridge, submits its form and sends its screenshot to the chat', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${nanoclaw.url}/?token=${TOKEN}`);
  await page.fill('#sender', 'Alice');
  await page.fill('#text', `sign me up at ${siteUrl} and show me`);
  times.asked = Date.now();
  await page.click('#send');

  // The screenshot, shown in the chat as an image of the browser's viewport.
  const replies = page.locator('.msg[data-from-assistant="true"]');
  await expect
    .poll(() => replies.locator('.text').allTextContents(), { timeout: 120_000 })
    .toContain('Done: you are signed up.');
  expect(await replies.locator('.text').allTextContents()).toEqual(['Signed up', 'Done: you are signed up.']);
  const picture = replies.locator('img');
  await expect
    .poll(() => picture.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth))
    .toBe(1280);

  // The page's server got exactly the page and the form with what was typed, from the agent's browser.
  const submissions = visits.filter((visit) => visit.method === 'POST');
  expect(submissions.map(({ path, body }) => ({ path, body }))).toEqual([
    { path: '/submit', body: 'name=Ada+Lovelace&email=ada%40example.test' },
  ]);
  expect(visits.map((visit) => visit.path).filter((path) => path !== '/favicon.ico')).toEqual([
    '/',
    '/submit',
  ]);
  expect(results).toHaveLength(steps.length);
  expect(results[1]).toContain('heading "Sign up for the newsletter"');
  expect(results[4]).toContain('Page URL: http://');
  expect(results[4]).toContain('/submit');
  expect(results[6]).toBe('Sent screenshots/signed-up.png.');

  // What the chat holds is the PNG the browser took: its bytes, fetched as the page does, with the token.
  const src = await picture.getAttribute('src');
  const fetched = await fetch(new URL(src as string, page.url()), {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect([fetched.status, fetched.headers.get('content-type')]).toEqual([200, 'image/png']);
  const png = Buffer.from(await fetched.arrayBuffer());
  expect(png.subarray(0, 8)).toEqual(PNG_MAGIC);
  // IHDR: width and height, the browser's viewport; a page of text compresses to tens of kB, not bytes.
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 800]);
  expect(png.length).toBeGreaterThan(5_000);
  expect(png.length).toBeLessThan(2 * MIB);
  expect(png).toEqual(readFileSync(join(home.path, 'groups', 'main', 'screenshots', 'signed-up.png')));

  // The browser's tools were offered from the first request; the container ran inside the host's caps.
  expect(toolNames(model.requests[0] as MessagesRequest)).toEqual(
    expect.arrayContaining(['mcp__browser__browser_navigate', 'mcp__browser__browser_take_screenshot']),
  );
  expect(await hostConfig).toMatchObject({
    Memory: 1024 * MIB,
    MemorySwap: 1024 * MIB,
    NanoCpus: 1e9,
    PidsLimit: 256,
    ReadonlyRootfs: true,
    Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
    SecurityOpt: ['no-new-privileges'],
    CapDrop: ['ALL'],
  });

  const pageLoad = (visits[0]?.at ?? 0) - times.navigateAsked;
  console.log(
    `browser e2e: message to first model request ${times.firstRequest - times.asked} ms; ` +
      `browser_navigate to the page's GET ${pageLoad} ms, to its result ${times.navigated - times.navigateAsked} ms`,
  );
  await page.close();
}, 180_000);
