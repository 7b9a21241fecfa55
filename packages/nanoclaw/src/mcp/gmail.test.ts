/**
 * Gmail end to end: a real NanoClaw host (its Gmail server a child process beside it), the real agent
 * image and Agent SDK against the scripted model, and a stand-in for Google at its wire protocol. The
 * main chat connects Gmail (consent link, pasted address), the agent searches, reads, replies and sends
 * through mcp__gmail__*, the stand-in sees exactly those calls, and no OAuth token nor the client's
 * secret is anywhere an agent container could see: its environment, processes, files or inspect.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { type GmailStandIn, startGmailStandIn } from '@boilerhouse/nanoclaw-gmail/testing/stand-in';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type MessagesRequest,
  type ModelServer,
  type ScriptedBlock,
  type ScriptedReply,
  startModelServer,
} from '../../../nanoclaw-agent/src/testing/model-server.ts';
import {
  toolNames,
  toolResults,
  toolResultText,
  userPrompts,
} from '../../../nanoclaw-agent/src/testing/requests.ts';
import { LABELS } from '../agent/docker.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { ChatClient, removeAgentContainersOf } from '../testing/e2e-host.ts';
import { tempHome } from '../testing/temp-home.ts';

let google: GmailStandIn;
let model: ModelServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
const logLines: string[] = [];
const chat = new ChatClient(() => nanoclaw.url);

/** Every secret of the Gmail connection, known so far. */
const secrets = () => [google.clientSecret, ...google.issued];

/**
 * A command that looks for each secret in the container's environment, processes and files, never
 * holding one whole (each is split in two, so neither the command nor the session transcript has it).
 */
function huntFor(values: string[]): string {
  const patterns = values
    .map((value) => `-e "$(printf '%s%s' '${value.slice(0, 6)}' '${value.slice(6)}')"`)
    .join(' ');
  return [
    'env',
    "echo ---procs; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n'",
    `echo "files holding a secret: [$(grep -rIlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev ${patterns} /)]"`,
  ].join('; ');
}

const inspected: string[] = [];
/** One tool call per model request, then a closing text; each result kept. */
const calls: Array<() => ScriptedBlock | Promise<ScriptedBlock>> = [
  () => ({ type: 'tool_use', name: 'mcp__gmail__search_messages', input: { query: 'invoice' } }),
  () => ({ type: 'tool_use', name: 'mcp__gmail__get_message', input: { message_id: 'm1' } }),
  () => ({
    type: 'tool_use',
    name: 'mcp__gmail__reply_message',
    input: { message_id: 'm1', body: 'Paid, thanks.' },
  }),
  () => ({
    type: 'tool_use',
    name: 'mcp__gmail__send_message',
    input: { to: 'carol@example.test', subject: 'Invoice 42 paid', body: 'Anna has been paid.' },
  }),
  async () => {
    const docker = new Docker();
    const hostId = readFileSync(join(home.path, 'data', 'host_id'), 'utf8').trim();
    for (const container of await docker.listContainers({ filters: { label: [`${LABELS.host}=${hostId}`] } }))
      inspected.push(JSON.stringify(await docker.getContainer(container.Id).inspect()));
    return { type: 'tool_use', name: 'Bash', input: { command: huntFor(secrets()), description: 'hunt' } };
  },
];
const results: string[] = [];
const mailRequests: MessagesRequest[] = [];

async function respond(request: MessagesRequest): Promise<ScriptedReply> {
  if (!(userPrompts(request).at(-1) ?? '').includes('check my mail'))
    return [{ type: 'text', text: 'no script for this' }];
  mailRequests.push(request);
  results.push(...toolResults(request).map(toolResultText));
  const next = calls[results.length];
  return next ? [await next()] : [{ type: 'text', text: 'mail done' }];
}

/** The status the MCP gateway on `socket` answers a tools/list with `token`. */
function gatewayStatus(socket: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        socketPath: socket,
        path: '/gmail/mcp',
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }));
  });
}

beforeAll(async () => {
  google = await startGmailStandIn([
    {
      id: 'm1',
      threadId: 't1',
      from: 'Anna <anna@example.test>',
      to: 'user@example.test',
      subject: 'Invoice 42',
      date: 'Mon, 2 Nov 2026 09:00:00 +0000',
      messageId: '<invoice-42@example.test>',
      text: 'Please pay invoice 42: 120 EUR.',
    },
  ]);
  model = await startModelServer(respond, { host: '127.0.0.1' });
  home = await tempHome('nanoclaw-gmail-e2e-');
  const config = loadConfig({
    NANOCLAW_HOME: home.path,
    NANOCLAW_PORT: '0',
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-ant-gmail-e2e',
    TZ: 'UTC',
    IDLE_TIMEOUT: '60000',
    CONTAINER_TIMEOUT: '120000',
    NANOCLAW_PREWARM: 'false',
    GMAIL_OAUTH_CLIENT_ID: google.clientId,
    GMAIL_OAUTH_CLIENT_SECRET: google.clientSecret,
    GMAIL_API_URL: google.endpoints.api,
    GMAIL_OAUTH_TOKEN_URL: google.endpoints.token,
    GMAIL_OAUTH_AUTH_URL: google.endpoints.auth,
    GMAIL_OAUTH_REVOKE_URL: google.endpoints.revoke,
  });
  nanoclaw = await startNanoclaw(config, {
    log: createLogger({ write: (line) => logLines.push(line), level: 'debug', format: 'json' }),
  });
});

afterAll(async () => {
  await nanoclaw?.stop();
  if (home !== undefined) await removeAgentContainersOf(home.path);
  await model?.close();
  await google?.close();
  await home?.remove();
});

it('connects Gmail from the main chat, and the agent searches, reads, replies and sends without ever holding a token', async () => {
  // The consent link, as the main chat shows it; "Allow" at the stand-in redirects to the loopback address.
  await chat.post('main', '/gmail connect');
  const offer = await chat.reply('main', (text) => text.startsWith('To connect Gmail'));
  const link = offer.split('\n').find((line) => line.startsWith(google.endpoints.auth)) as string;
  expect(new URL(link).searchParams.get('scope')).toBe(
    'https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/gmail.send',
  );
  const landed = (await fetch(link, { redirect: 'manual' })).headers.get('location') as string;
  expect(landed).toMatch(/^http:\/\/127\.0\.0\.1:1\/gmail-connected\?code=/);
  await chat.post('main', `/gmail code ${landed}`);
  expect(await chat.reply('main', (text) => text.startsWith('Gmail is connected'))).toBe(
    "Gmail is connected as user@example.test. This chat's assistant can search, read, send and reply from its next message; /mcp add <chat id> gmail gives it to another chat.",
  );
  const credentials = join(home.path, 'store', 'gmail', 'credentials.json');
  expect(statSync(credentials).mode & 0o777).toBe(0o600);
  expect(google.apiCalls()).toEqual(['GET /profile']);
  // Nothing of the connection in the chat but the link: no token reached a message.
  for (const message of await chat.messages('main'))
    for (const secret of secrets()) expect(message.text).not.toContain(secret);

  await chat.post('main', '@Andy check my mail');
  await chat.reply('main', (text) => text === 'mail done', 120_000);
  expect(toolNames(mailRequests[0] as MessagesRequest)).toEqual(
    expect.arrayContaining([
      'mcp__gmail__search_messages',
      'mcp__gmail__get_message',
      'mcp__gmail__send_message',
      'mcp__gmail__reply_message',
    ]),
  );
  expect(results[0]).toContain('- id m1 (thread t1)');
  expect(results[1]).toContain('Please pay invoice 42: 120 EUR.');
  expect(results[2]).toBe('Replied to Anna <anna@example.test> in thread t1 (message id sent-1).');
  expect(results[3]).toBe('Sent to carol@example.test (message id sent-2, thread sent-2).');
  expect(google.apiCalls()).toEqual([
    'GET /profile',
    'GET /messages?q=invoice&maxResults=10',
    'GET /messages/m1?format=metadata&metadataHeaders=From&metadataHeaders=To&metadataHeaders=Subject&metadataHeaders=Date',
    'GET /messages/m1?format=full',
    'GET /messages/m1?format=metadata&metadataHeaders=From&metadataHeaders=Reply-To&metadataHeaders=Subject&metadataHeaders=Message-ID&metadataHeaders=References',
    'POST /messages/send',
    'POST /messages/send',
  ]);
  expect(google.sent.map((mail) => mail.threadId)).toEqual(['t1', undefined]);
  expect(google.sent[0]?.mime).toContain('In-Reply-To: <invoice-42@example.test>\r\n');
  expect(google.sent[1]?.mime).toContain('Subject: Invoice 42 paid\r\n');

  // What the agent could see: a gateway address and a run token, nothing of Google's.
  const hunt = results[4] as string;
  expect(hunt).toContain('---procs');
  expect(hunt).toMatch(/"authorization":"Bearer [A-Za-z0-9_-]{43}"/);
  expect(hunt).toContain('files holding a secret: []');
  expect(inspected.length).toBeGreaterThan(0);
  for (const secret of secrets()) {
    expect(hunt).not.toContain(secret);
    for (const container of inspected) expect(container).not.toContain(secret);
  }
  for (const line of logLines) for (const secret of secrets()) expect(line).not.toContain(secret);

  // The gateway takes only a live run token of its group.
  const socket = join(home.path, 'data', 'model', 'main', 'mcp.sock');
  expect(await gatewayStatus(socket, 'x'.repeat(43))).toBe(401);
  const runToken = /"authorization":"Bearer ([A-Za-z0-9_-]{43})"/.exec(hunt)?.[1] as string;
  expect(await gatewayStatus(socket, runToken)).toBe(200);

  await chat.post('main', '/gmail disconnect');
  expect(await chat.reply('main', (text) => text.startsWith('Gmail is disconnected'))).toBe(
    'Gmail is disconnected: its tokens are deleted here and the grant is revoked at Google.',
  );
  expect(existsSync(credentials)).toBe(false);
  expect(google.calls.filter((call) => call.url === '/revoke')).toHaveLength(1);
}, 240_000);
