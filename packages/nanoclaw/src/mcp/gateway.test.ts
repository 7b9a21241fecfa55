/**
 * The MCP gateway in front of the real Gmail server (a child process, as the host runs it) and Google's
 * stand-in: only a live run token of the socket's group passes, only to a server that group is
 * configured with at that moment, and the child holds its secrets in memory, not in its environment or
 * command line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { writeCredentials } from '@boilerhouse/nanoclaw-gmail/credentials';
import { type GmailStandIn, startGmailStandIn } from '@boilerhouse/nanoclaw-gmail/testing/stand-in';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { Layout } from '../layout.ts';
import { silentLogger } from '../log.ts';
import { tempHome } from '../testing/temp-home.ts';
import { McpGateway } from './gateway.ts';
import { GMAIL, gmailCredentialsPath, gmailServer } from './gmail.ts';
import { HostMcpServers } from './host-servers.ts';

let google: GmailStandIn;
let home: Awaited<ReturnType<typeof tempHome>>;
let servers: HostMcpServers;
let gateway: McpGateway;
const configured = new Map<string, boolean>([
  ['main', true],
  ['family', false],
]);

function post(
  socketPath: string,
  token: string,
  path = '/gmail/mcp',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        socketPath,
        path,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }));
  });
}

beforeAll(async () => {
  google = await startGmailStandIn([]);
  home = await tempHome('nanoclaw-mcp-gateway-');
  const layout = new Layout(home.path);
  const config = loadConfig({
    NANOCLAW_HOME: home.path,
    GMAIL_OAUTH_CLIENT_ID: google.clientId,
    GMAIL_OAUTH_CLIENT_SECRET: google.clientSecret,
    GMAIL_API_URL: google.endpoints.api,
    GMAIL_OAUTH_TOKEN_URL: google.endpoints.token,
  });
  await writeCredentials(gmailCredentialsPath(layout), {
    refreshToken: google.issueRefreshToken(),
    email: google.email,
    scope: '',
    connectedAt: '',
  });
  servers = new HostMcpServers(
    [gmailServer(config.gmail, layout)],
    join(layout.dataDir, 'mcp'),
    silentLogger,
  );
  gateway = new McpGateway({
    allowed: (group, name) => name === GMAIL && configured.get(group) === true,
    socketOf: (name) => servers.socketOf(name),
    log: silentLogger,
  });
  for (const group of configured.keys())
    await gateway.serveGroup(group, join(layout.modelDir(group), 'mcp.sock'));
});

afterAll(async () => {
  await gateway?.close();
  await servers?.stop();
  await google?.close();
  await home?.remove();
});

test("a live token of the socket's group reaches the group's server; any other token, or server, does not", async () => {
  const main = join(home.path, 'data', 'model', 'main', 'mcp.sock');
  const family = join(home.path, 'data', 'model', 'family', 'mcp.sock');
  const mainToken = gateway.issueToken('main');
  const familyToken = gateway.issueToken('family');

  const listed = await post(main, mainToken.value);
  expect(listed.status).toBe(200);
  expect(listed.body).toContain('"search_messages"');
  expect(listed.body).toContain('"reply_message"');

  expect((await post(main, familyToken.value)).status).toBe(401);
  expect((await post(family, familyToken.value)).status).toBe(404);
  expect((await post(main, mainToken.value, '/calendar/mcp')).status).toBe(404);

  // Taken from the group mid-run: refused at once.
  configured.set('main', false);
  expect((await post(main, mainToken.value)).status).toBe(404);
  configured.set('main', true);
  mainToken.revoke();
  expect((await post(main, mainToken.value)).status).toBe(401);
});

test("the Gmail server's process holds its secrets in memory only: not in its environment or command line", async () => {
  await servers.socketOf(GMAIL);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nanoclaw-gmail'));
  expect(children).toHaveLength(1);
  const [pid] = children;
  const seen = `${readFileSync(`/proc/${pid}/environ`, 'utf8')}\n${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`;
  for (const secret of [google.clientSecret, ...google.issued]) expect(seen).not.toContain(secret);
  expect(seen).not.toContain(google.clientId);
});
