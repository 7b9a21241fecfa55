/**
 * Gmail end to end: a real NanoClaw host (its Gmail server a child process beside it), the real agent
 * image and Agent SDK against the scripted model, and a stand-in for Google at its wire protocol. The
 * main chat connects Gmail (consent link, pasted address), the agent searches, reads, replies and sends
 * through mcp__gmail__* (an access token dying on the way is refreshed), the stand-in sees exactly those
 * calls, and no OAuth token nor the client's secret is anywhere an agent container could see: its
 * environment, mounts, processes, files or inspect. The agent's MCP token works only while its run lives.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
import { ChatClient, removeAgentContainersOf, until } from '../testing/e2e-host.ts';
import { tempHome } from '../testing/temp-home.ts';

let google: GmailStandIn;
let model: ModelServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
const logLines: string[] = [];
const chat = new ChatClient(() => nanoclaw.url);

/** Every secret of the Gmail connection, known so far. */
const secrets = () => [google.clientSecret, ...google.issued];

/** Put in the group's folder before the hunt: the hunt must find it, or it could find nothing. */
const CONTROL = `hunt-control-${randomBytes(8).toString('hex')}`;

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
    `echo "files holding a secret: [$(grep -rIlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev ${patterns} / | sort | paste -sd, -)]"`,
  ].join('; ');
}

const docker = new Docker();
const hostId = () => readFileSync(join(home.path, 'data', 'host_id'), 'utf8').trim();
const agentContainers = () => docker.listContainers({ filters: { label: [`${LABELS.host}=${hostId()}`] } });

const FINAL = 'I paid Anna in her thread and told Carol.';
const inspected: Docker.ContainerInspectInfo[] = [];
/** The run's MCP token, as the agent saw it, and what the gateway answered it while the run lived. */
let runToken = '';
let statusInRun = 0;

/** One tool call per model request, then a closing text; each result kept. */
const calls: Array<() => ScriptedBlock | Promise<ScriptedBlock>> = [
  () => ({ type: 'tool_use', name: 'mcp__gmail__search_messages', input: { query: 'invoice' } }),
  () => ({ type: 'tool_use', name: 'mcp__gmail__get_message', input: { message_id: 'm1' } }),
  () => ({
    type: 'tool_use',
    name: 'mcp__gmail__reply_message',
    input: { message_id: 'm1', body: 'Paid, thanks.' },
  }),
  () => {
    // The access token dies before the send: the server gets a 401, refreshes, and sends once more.
    google.expireAccessTokens();
    return {
      type: 'tool_use',
      name: 'mcp__gmail__send_message',
      input: { to: 'carol@example.test', subject: 'Invoice 42 paid', body: 'Anna has been paid.' },
    };
  },
  async () => {
    for (const container of await agentContainers())
      inspected.push(await docker.getContainer(container.Id).inspect());
    writeFileSync(join(home.path, 'groups', 'main', 'hunt-control.txt'), CONTROL);
    const command = huntFor([CONTROL, ...secrets()]);
    return { type: 'tool_use', name: 'Bash', input: { command, description: 'hunt' } };
  },
  async () => {
    runToken = /"authorization":"Bearer ([A-Za-z0-9_-]{43})"/.exec(results[4] ?? '')?.[1] ?? '';
    statusInRun = await gatewayStatus(join(home.path, 'data', 'model', 'main', 'mcp.sock'), runToken);
    return { type: 'text', text: FINAL };
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
  return [next === undefined ? { type: 'text', text: `no step ${results.length}` } : await next()];
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
    {
      id: 'm2',
      threadId: 't2',
      from: 'Bob <bob@example.test>',
      to: 'user@example.test',
      subject: 'Lunch?',
      date: 'Tue, 3 Nov 2026 11:00:00 +0000',
      messageId: '<lunch@example.test>',
      text: 'Lunch on Friday?',
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
    // Short, so the run ends soon after its answer and its MCP token is seen to die with it.
    IDLE_TIMEOUT: '3000',
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

const API = '/gmail/v1/users/me';
/** Each call the stand-in saw, as `METHOD path [grant] -> status` (the consent link's query aside). */
function seenCalls(): string[] {
  return google.calls.map((call) => {
    const url = call.url.startsWith('/o/oauth2/') ? new URL(call.url, 'http://stand-in').pathname : call.url;
    const grant = call.url === '/token' ? ` ${String(call.body.grant_type)}` : '';
    return `${call.method} ${url}${grant} -> ${call.status}`;
  });
}

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
  expect(seenCalls()).toEqual([
    'GET /o/oauth2/v2/auth -> 302',
    'POST /token authorization_code -> 200',
    `GET ${API}/profile -> 200`,
  ]);
  // The refresh token is kept on the host's side only, in its store.
  const credentials = join(home.path, 'store', 'gmail', 'credentials.json');
  expect(statSync(credentials).mode & 0o777).toBe(0o600);
  const refreshToken = (JSON.parse(readFileSync(credentials, 'utf8')) as { refreshToken: string })
    .refreshToken;
  expect(google.issued).toContain(refreshToken);
  // Nothing of the connection in the chat but the link: no token reached a message.
  for (const message of await chat.messages('main'))
    for (const secret of secrets()) expect(message.text).not.toContain(secret);

  const before = (await chat.replies('main')).length;
  await chat.post('main', '@Andy check my mail');
  await until(async () => (await chat.replies('main')).length > before || undefined, 'the reply', 120_000);
  expect((await chat.replies('main')).slice(before)).toEqual([FINAL]);
  expect(toolNames(mailRequests[0] as MessagesRequest)).toEqual(
    expect.arrayContaining([
      'mcp__gmail__search_messages',
      'mcp__gmail__get_message',
      'mcp__gmail__send_message',
      'mcp__gmail__reply_message',
    ]),
  );
  expect(results[0]).toContain('1 message(s) match "invoice"');
  expect(results[0]).toContain('- id m1 (thread t1)');
  expect(results[1]).toContain('Please pay invoice 42: 120 EUR.');
  expect(results[2]).toBe('Replied to Anna <anna@example.test> in thread t1 (message id sent-1).');
  expect(results[3]).toBe('Sent to carol@example.test (message id sent-2, thread sent-2).');

  // Exactly these calls reached "Google": one refresh at the first tool call, one when a token died.
  expect(seenCalls().slice(3)).toEqual([
    'POST /token refresh_token -> 200',
    `GET ${API}/messages?q=invoice&maxResults=10 -> 200`,
    `GET ${API}/messages/m1?format=metadata&metadataHeaders=From&metadataHeaders=To&metadataHeaders=Subject&metadataHeaders=Date -> 200`,
    `GET ${API}/messages/m1?format=full -> 200`,
    `GET ${API}/messages/m1?format=metadata&metadataHeaders=From&metadataHeaders=Reply-To&metadataHeaders=Subject&metadataHeaders=Message-ID&metadataHeaders=References -> 200`,
    `POST ${API}/messages/send -> 200`,
    `POST ${API}/messages/send -> 401`,
    'POST /token refresh_token -> 200',
    `POST ${API}/messages/send -> 200`,
  ]);
  for (const call of google.calls.filter((entry) => entry.body.grant_type === 'refresh_token'))
    expect(call.body).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: google.clientId,
      client_secret: google.clientSecret,
    });
  const sends = google.calls.filter((call) => call.url === `${API}/messages/send`);
  expect(sends.map((call) => call.body.threadId)).toEqual(['t1', undefined, undefined]);
  expect(sends[2]?.body.raw).toBe(sends[1]?.body.raw);
  expect(sends.every((call) => /^[A-Za-z0-9_-]+=*$/.test(String(call.body.raw)))).toBe(true);
  expect(
    google.sent.map((mail) => ({
      threadId: mail.threadId,
      filedIn: mail.filedIn,
      to: mail.headers.to,
      subject: mail.headers.subject,
      inReplyTo: mail.headers['in-reply-to'],
      references: mail.headers.references,
      text: mail.text,
    })),
  ).toEqual([
    {
      threadId: 't1',
      filedIn: 't1',
      to: 'Anna <anna@example.test>',
      subject: 'Re: Invoice 42',
      inReplyTo: '<invoice-42@example.test>',
      references: '<invoice-42@example.test>',
      text: 'Paid, thanks.',
    },
    {
      threadId: undefined,
      filedIn: 'sent-2',
      to: 'carol@example.test',
      subject: 'Invoice 42 paid',
      inReplyTo: undefined,
      references: undefined,
      text: 'Anna has been paid.',
    },
  ]);

  // What the agent could see: a gateway address and a run token, nothing of Google's.
  const hunt = results[4] as string;
  expect(hunt).toContain('---procs');
  expect(hunt).toMatch(/"authorization":"Bearer [A-Za-z0-9_-]{43}"/);
  // The control file, seen from both mounts of the groups, and nothing else.
  expect(hunt).toContain(
    'files holding a secret: [/workspace/global/main/hunt-control.txt,/workspace/group/hunt-control.txt]',
  );
  expect(inspected.length).toBeGreaterThan(0);
  const store = join(home.path, 'store');
  for (const container of inspected) {
    expect(container.Config.Env.filter((entry) => entry.startsWith('GMAIL_'))).toEqual([]);
    const sources = container.Mounts.map((mount) => mount.Source);
    expect(sources.filter((source) => source === store || source.startsWith(`${store}/`))).toEqual([]);
  }
  for (const secret of secrets()) {
    expect(hunt).not.toContain(secret);
    for (const container of inspected) expect(JSON.stringify(container)).not.toContain(secret);
  }
  for (const line of logLines) for (const secret of secrets()) expect(line).not.toContain(secret);
  // The consent goes to the chat alone: neither its link (by its state) nor the code pasted back is logged.
  const consent = [new URL(link).searchParams.get('state'), new URL(landed).searchParams.get('code')];
  for (const line of logLines) for (const value of consent) expect(line).not.toContain(value);

  // The gateway takes a live run token of its group, and no other; the run's token dies with the run.
  const socket = join(home.path, 'data', 'model', 'main', 'mcp.sock');
  expect(statusInRun).toBe(200);
  expect(await gatewayStatus(socket, 'x'.repeat(43))).toBe(401);
  await until(async () => (await agentContainers()).length === 0 || undefined, 'the run to end', 30_000);
  // Revoked as the host finishes with the exited container (its output read, the container removed).
  await until(
    async () => (await gatewayStatus(socket, runToken)) === 401 || undefined,
    'the run token to be refused once its run ended',
    10_000,
  );

  await chat.post('main', '/gmail disconnect');
  expect(await chat.reply('main', (text) => text.startsWith('Gmail is disconnected'))).toBe(
    'Gmail is disconnected: its tokens are deleted here and the grant is revoked at Google.',
  );
  expect(existsSync(credentials)).toBe(false);
  expect(seenCalls().slice(12)).toEqual(['POST /revoke -> 200']);
  expect(google.calls.at(-1)?.body).toEqual({ token: refreshToken });
}, 240_000);
