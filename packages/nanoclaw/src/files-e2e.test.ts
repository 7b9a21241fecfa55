/**
 * Files and images end to end: Debian's Chromium on the web chat, a real host, the real agent image on
 * the Docker engine with the real Agent SDK and CLI inside, and the scripted model server on loopback
 * (reached only through the host's model proxy). A picture picked with the page's attach button reaches
 * the model as an image; the model writes a file with Bash and sends it and the picture back with
 * send_file; the page shows the picture inline and the file as a download, which only this chat's token
 * fetches.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type MessagesRequest,
  type ModelServer,
  type ScriptedReply,
  startModelServer,
} from '../../nanoclaw-agent/src/testing/model-server.ts';
import { lastUserMessage, toolResults, toolResultText } from '../../nanoclaw-agent/src/testing/requests.ts';
import { loadConfig } from './config.ts';
import { silentLogger } from './log.ts';
import { type Nanoclaw, startNanoclaw } from './nanoclaw.ts';
import { launchBrowser } from './testing/browser.ts';
import { removeAgentContainersOf } from './testing/e2e-host.ts';
import { PNG } from './testing/images.ts';
import { tempHome } from './testing/temp-home.ts';

const TOKEN = 'files-e2e-token-of-this-tenant';
let model: ModelServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
let browser: Browser;

const imageBlocks = (request: MessagesRequest) => {
  const content = lastUserMessage(request)?.content;
  return typeof content === 'string' || content === undefined
    ? []
    : content.filter((block) => block.type === 'image');
};

/** The model's side: look at the picture, write a file with Bash, send it and the picture back, say so. */
function respond(request: MessagesRequest): ScriptedReply {
  const results = toolResults(request).map(toolResultText);
  const tool = (name: string, input: Record<string, unknown>): ScriptedReply => [
    { type: 'tool_use', name, input },
  ];
  if (results.length === 0) {
    const seen = imageBlocks(request).length;
    if (seen === 0) return [{ type: 'text', text: 'I was shown no image' }];
    return tool('Bash', {
      command: "mkdir -p out && printf 'colour,pixels\\nred,2\\nblue,2\\n' > out/colours.csv",
      description: 'count the colours',
    });
  }
  const last = results.at(-1) ?? '';
  if (last.startsWith('Sent out/colours.csv'))
    return tool('mcp__nanoclaw__send_file', { path: 'files/cat.png', caption: 'your picture, back' });
  if (last.startsWith('Sent files/cat.png')) return [{ type: 'text', text: 'Half red, half blue.' }];
  if (last.startsWith('The host refused') || last.includes('is not a file inside'))
    return [{ type: 'text', text: `send_file failed: ${last}` }];
  return tool('mcp__nanoclaw__send_file', {
    path: '/workspace/group/out/colours.csv',
    caption: 'the counts',
  });
}

beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', 'nanoclaw-agent:latest'], { stdio: 'ignore' });
  model = await startModelServer(respond, { host: '127.0.0.1' });
  home = await tempHome('nanoclaw-files-e2e-');
  nanoclaw = await startNanoclaw(
    loadConfig({
      NANOCLAW_HOME: home.path,
      NANOCLAW_PORT: '0',
      NANOCLAW_WEB_TOKEN: TOKEN,
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: 'sk-ant-files-e2e',
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
  await removeAgentContainersOf(home.path);
  await model?.close();
  await home?.remove();
});

it('an image picked in the page is seen by the model, and what the agent sends back is shown', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${nanoclaw.url}/?token=${TOKEN}`);
  await page.fill('#sender', 'Alice');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#attach')]);
  await chooser.setFiles({ name: 'cat.png', mimeType: 'image/png', buffer: PNG });
  await page.fill('#text', 'what colours are in this picture?');
  await page.click('#send');

  const replies = page.locator('.msg[data-from-assistant="true"]');
  await expect
    .poll(() => replies.locator('.text').allTextContents(), { timeout: 90_000 })
    .toContain('Half red, half blue.');
  // The model was given the picture itself, as the Messages API's image block, in the user's turn.
  const first = model.requests[0] as MessagesRequest;
  expect(imageBlocks(first)).toEqual([
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } },
  ]);
  expect(JSON.stringify(lastUserMessage(first)?.content)).toContain(
    `<attachment path=\\"files/cat.png\\" type=\\"image/png\\" size=\\"${PNG.length}\\"/>`,
  );

  // The file the agent made, as a download link; the picture it sent back, shown.
  const link = replies.locator('a.file');
  await expect.poll(() => link.textContent()).toBe('colours.csv (1 kB)');
  expect(await replies.locator('.text').allTextContents()).toEqual([
    'the counts',
    'your picture, back',
    'Half red, half blue.',
  ]);
  const picture = replies.locator('img[alt="cat-2.png"]');
  await expect
    .poll(() => picture.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth))
    .toBe(2);
  const files = join(home.path, 'groups', 'main', 'files');
  expect(readFileSync(join(files, 'colours.csv'), 'utf8')).toBe('colour,pixels\nred,2\nblue,2\n');
  expect(readFileSync(join(files, 'cat-2.png'))).toEqual(PNG);

  // Only this chat's token fetches them.
  const href = await link.getAttribute('href');
  const url = new URL(href as string, page.url()).toString();
  expect((await fetch(url)).status).toBe(401);
  expect(
    (await fetch(url, { headers: { authorization: 'Bearer files-e2e-token-of-another-one' } })).status,
  ).toBe(401);
  const download = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect([download.status, download.headers.get('content-disposition')?.split(';')[0]]).toEqual([
    200,
    'attachment',
  ]);
  await page.close();
});
