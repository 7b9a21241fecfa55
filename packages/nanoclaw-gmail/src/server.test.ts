/**
 * The Gmail server over its unix socket, as the host's gateway calls it (JSON-RPC over streamable HTTP),
 * against the Google stand-in: each tool makes exactly its Gmail calls, refreshes its token when it must,
 * and says so when Gmail is not connected or access was revoked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import type { GmailServerConfig } from './config.ts';
import { removeCredentials, writeCredentials } from './credentials.ts';
import { MCP_PATH, startGmailServer } from './server.ts';
import { type GmailStandIn, type StandInMail, startGmailStandIn } from './testing/gmail-stand-in.ts';

const MAILBOX: StandInMail[] = [
  {
    id: 'm1',
    threadId: 't1',
    from: 'Anna <anna@example.test>',
    to: 'user@example.test',
    subject: 'Invoice 42',
    date: 'Mon, 2 Nov 2026 09:00:00 +0000',
    messageId: '<invoice-42@example.test>',
    text: 'Please find invoice 42 attached. Total: 120 EUR.',
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
];

let google: GmailStandIn;
let dir: string;
let config: GmailServerConfig;
let server: Server;
let rpcId = 0;

async function call(
  tool: string,
  args: Record<string, unknown>,
): Promise<{ text: string; isError: boolean }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: ++rpcId,
    method: 'tools/call',
    params: { name: tool, arguments: args },
  });
  const answer = await new Promise<string>((resolve, reject) => {
    const outgoing = request(
      {
        socketPath: config.socketPath,
        path: MCP_PATH,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        response.on('end', () => resolve(text));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
  const result = (JSON.parse(answer) as { result: { content: Array<{ text: string }>; isError?: boolean } })
    .result;
  return { text: result.content.map((block) => block.text).join('\n'), isError: result.isError === true };
}

beforeAll(async () => {
  google = await startGmailStandIn(MAILBOX);
  dir = await mkdtemp(join(tmpdir(), 'nanoclaw-gmail-'));
  config = {
    socketPath: join(dir, 'gmail.sock'),
    credentialsPath: join(dir, 'store', 'credentials.json'),
    clientId: google.clientId,
    clientSecret: google.clientSecret,
    endpoints: google.endpoints,
  };
  server = await startGmailServer(config, () => undefined);
});

beforeEach(async () => {
  await writeCredentials(config.credentialsPath, {
    refreshToken: google.issueRefreshToken(),
    email: google.email,
    scope: '',
    connectedAt: new Date().toISOString(),
  });
  google.calls.length = 0;
  google.sent.length = 0;
});

afterAll(async () => {
  server?.close();
  await google?.close();
  await rm(dir, { recursive: true, force: true });
});

test('search lists the matches with their ids, reading only their summary headers', async () => {
  const found = await call('search_messages', { query: 'invoice', max_results: 5 });
  expect(found.isError).toBe(false);
  expect(found.text).toContain('1 message(s) match "invoice"');
  expect(found.text).toContain(
    '- id m1 (thread t1) | Mon, 2 Nov 2026 09:00:00 +0000 | From: Anna <anna@example.test> | Subject: Invoice 42',
  );
  expect(google.apiCalls()).toEqual([
    'GET /messages?q=invoice&maxResults=5',
    'GET /messages/m1?format=metadata&metadataHeaders=From&metadataHeaders=To&metadataHeaders=Subject&metadataHeaders=Date',
  ]);
  // One refresh for both calls: the access token is kept while it lives.
  expect(google.calls.filter((entry) => entry.url === '/token')).toHaveLength(1);
});

test('get_message gives the headers and the text part', async () => {
  const read = await call('get_message', { message_id: 'm2' });
  expect(read.text).toContain('From: Bob <bob@example.test>');
  expect(read.text).toContain('Subject: Lunch?');
  expect(read.text).toMatch(/\n\nLunch on Friday\?$/);
  expect(google.apiCalls()).toEqual(['GET /messages/m2?format=full']);
});

test('send_message sends one plain-text message; a header with a line break is refused before any call', async () => {
  const sent = await call('send_message', {
    to: 'carol@example.test',
    subject: 'Héllo',
    body: 'See you soon.',
  });
  expect(sent.text).toBe('Sent to carol@example.test (message id sent-1, thread sent-1).');
  expect(google.apiCalls()).toEqual(['POST /messages/send']);
  const [mail] = google.sent;
  expect(mail?.threadId).toBeUndefined();
  expect(mail?.mime).toContain('To: carol@example.test\r\n');
  expect(mail?.mime).toContain(`Subject: =?UTF-8?B?${Buffer.from('Héllo').toString('base64')}?=\r\n`);
  expect(mail?.mime).toContain(Buffer.from('See you soon.').toString('base64'));

  const injected = await call('send_message', {
    to: 'carol@example.test',
    subject: 'hi\r\nBcc: eve@example.test',
    body: 'x',
  });
  expect(injected).toEqual({ text: 'subject must be one line', isError: true });
  expect(google.sent).toHaveLength(1);
});

test('reply_message answers in the thread, to the sender, with In-Reply-To and References', async () => {
  const replied = await call('reply_message', { message_id: 'm1', body: 'Paid, thanks.' });
  expect(replied.text).toBe('Replied to Anna <anna@example.test> in thread t1 (message id sent-1).');
  expect(google.apiCalls()).toEqual([
    'GET /messages/m1?format=metadata&metadataHeaders=From&metadataHeaders=Reply-To&metadataHeaders=Subject&metadataHeaders=Message-ID&metadataHeaders=References',
    'POST /messages/send',
  ]);
  const [mail] = google.sent;
  expect(mail?.threadId).toBe('t1');
  expect(mail?.mime).toContain('To: Anna <anna@example.test>\r\n');
  expect(mail?.mime).toContain('Subject: Re: Invoice 42\r\n');
  expect(mail?.mime).toContain('In-Reply-To: <invoice-42@example.test>\r\n');
  expect(mail?.mime).toContain('References: <invoice-42@example.test>\r\n');
});

test('without credentials, or after the grant was revoked, the tools say how to connect again', async () => {
  await removeCredentials(config.credentialsPath);
  const unconnected = await call('search_messages', { query: 'lunch' });
  expect(unconnected).toEqual({
    text: 'Gmail is not connected. Someone in the main chat connects it with /gmail connect.',
    isError: true,
  });
  expect(google.calls).toEqual([]);

  const refreshToken = google.issueRefreshToken();
  await writeCredentials(config.credentialsPath, {
    refreshToken,
    email: google.email,
    scope: '',
    connectedAt: '',
  });
  await fetch(google.endpoints.revoke, {
    method: 'POST',
    body: new URLSearchParams({ token: refreshToken }),
  });
  const revoked = await call('get_message', { message_id: 'm1' });
  expect(revoked.isError).toBe(true);
  expect(revoked.text).toContain('Gmail access was revoked or has expired');
  expect(google.apiCalls()).toEqual([]);
});
