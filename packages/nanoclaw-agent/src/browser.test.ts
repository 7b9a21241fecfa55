/**
 * The browser in the real agent image, under the caps a hosted NanoClaw's agents get (memory, pids, a
 * read-only root with its /tmp, no capabilities, no new privileges): the scripted model opens a page this
 * test serves on Docker's bridge, reads it, fills its form and submits it, takes a screenshot and sends it
 * to the chat. The page's server sees the submission; the screenshot is in the group's folder and the
 * send_file request names it.
 */

import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAgentContainer } from './testing/agent-container.ts';
import { useAgentFixture } from './testing/agent-fixture.ts';
import { answerRequests } from './testing/host-answers.ts';
import { dockerBridgeGateway, type ScriptedBlock } from './testing/model-server.ts';
import { toolNames, toolResults, toolResultText } from './testing/requests.ts';

const agent = useAgentFixture();

const FORM = `<!doctype html><title>Sign-up</title><h1>Sign up for the newsletter</h1>
<form method="post" action="/submit"><label>Name <input name="name"></label>
<label>Email <input name="email" type="email"></label><button type="submit">Send</button></form>`;

let page: Server;
let pageUrl: string;
const seen: Array<{ method: string; path: string; body: string }> = [];

beforeAll(async () => {
  // On Docker's bridge, where containers reach this machine; not loopback, which is the container's own.
  const host = await dockerBridgeGateway();
  page = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      seen.push({ method: request.method ?? '', path: request.url ?? '', body });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      if (request.method === 'POST') {
        const form = new URLSearchParams(body);
        response.end(`<!doctype html><title>Thanks</title><h1>Thanks, ${form.get('name')}!</h1>`);
      } else response.end(FORM);
    });
  });
  await new Promise<void>((resolve) => page.listen(0, host, resolve));
  pageUrl = `http://${host}:${(page.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  page?.closeAllConnections();
  await new Promise((resolve) => page?.close(resolve));
});

/** The ref of the element a snapshot line names, e.g. `textbox "Name" [ref=e5]`. */
function ref(snapshot: string, role: string, name: string): string {
  const found = new RegExp(`${role} "${name}"[^\\n]*\\[ref=(e\\d+)\\]`).exec(snapshot)?.[1];
  if (found === undefined) throw new Error(`no ${role} "${name}" in the snapshot:\n${snapshot}`);
  return found;
}

const browser = (name: string, input: Record<string, unknown>): ScriptedBlock => ({
  type: 'tool_use',
  name: `mcp__browser__${name}`,
  input,
});

test('the agent opens a page on the bridge, fills and submits its form, and sends the screenshot it took', async () => {
  const dirs = await agent.dirsFor('main');
  const stopAnswering = answerRequests(dirs.ipc, () => () => ({ status: 'accepted' }));
  const results: string[] = [];
  const steps: Array<(last: string) => ScriptedBlock> = [
    () => browser('browser_navigate', { url: pageUrl }),
    () => browser('browser_snapshot', {}),
    (snapshot) =>
      browser('browser_fill_form', {
        fields: [
          { name: 'Name', type: 'textbox', target: ref(snapshot, 'textbox', 'Name'), value: 'Ada Lovelace' },
          {
            name: 'Email',
            type: 'textbox',
            target: ref(snapshot, 'textbox', 'Email'),
            value: 'ada@example.test',
          },
        ],
      }),
    () => browser('browser_snapshot', {}),
    (snapshot) => browser('browser_click', { element: 'Send', target: ref(snapshot, 'button', 'Send') }),
    () => browser('browser_take_screenshot', { filename: 'screenshots/thanks.png' }),
    () => ({
      type: 'tool_use',
      name: 'mcp__nanoclaw__send_file',
      input: { path: 'screenshots/thanks.png', caption: 'Signed up' },
    }),
  ];
  agent.respond = (request) => {
    const answered = toolResults(request).map(toolResultText);
    results.push(...answered);
    const step = steps[results.length];
    return step ? [step(answered.join('\n'))] : [{ type: 'text', text: 'Signed you up.' }];
  };
  const run = startAgentContainer({
    input: {
      prompt: 'Sign me up on that page and show me.',
      sessionId: null,
      group: 'main',
      chatJid: 'web:main',
      isMain: true,
      isScheduledTask: false,
      assistantName: 'Andy',
      modelToken: agent.token(dirs),
    },
    dirs,
    env: {},
    hostedLimits: true,
  });
  const [reply] = await run.waitForFrames(1, 120_000);
  await run.close();
  expect(await run.exited).toBe(0);
  await stopAnswering();
  expect(reply).toMatchObject({ status: 'success', result: 'Signed you up.' });

  // The browser's tools were there from the first request, allowed without asking.
  const first = agent.server.requests[0] ?? { model: '', messages: [] };
  expect(toolNames(first)).toEqual(
    expect.arrayContaining(['mcp__browser__browser_navigate', 'mcp__browser__browser_take_screenshot']),
  );
  expect(results).toHaveLength(steps.length);
  expect(results[1]).toContain('heading "Sign up for the newsletter"');
  expect(results[4]).toContain('Page URL: http://');
  expect(results[4]).toContain('/submit');

  const submissions = seen.filter((request) => request.method === 'POST');
  expect(submissions).toEqual([
    { method: 'POST', path: '/submit', body: 'name=Ada+Lovelace&email=ada%40example.test' },
  ]);
  // Nothing but the page and what it asked for (a browser may ask for the site's icon).
  expect(seen.map((request) => request.path).filter((path) => path !== '/favicon.ico')).toEqual([
    '/',
    '/submit',
  ]);

  const screenshot = await readFile(join(dirs.group, 'screenshots', 'thanks.png'));
  expect(screenshot.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(screenshot.length).toBeGreaterThan(2000);
  const [request] = await Promise.all(
    (await readdir(join(dirs.ipc, 'messages'))).map(async (name) =>
      JSON.parse(await readFile(join(dirs.ipc, 'messages', name), 'utf8')),
    ),
  );
  expect(request).toEqual({
    type: 'file',
    chatJid: 'web:main',
    path: 'screenshots/thanks.png',
    caption: 'Signed up',
  });
}, 180_000);
