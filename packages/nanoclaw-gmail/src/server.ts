/**
 * The Gmail MCP server: streamable HTTP at `/mcp` on a unix socket, stateless (a fresh MCP server for
 * each POST: tools need no session, and a host restart loses nothing). Only the NanoClaw host connects,
 * on behalf of an agent whose run token it checked; the socket's directory is the host's alone.
 */
import { lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AccessTokens } from './access-tokens.ts';
import type { GmailServerConfig } from './config.ts';
import { GmailApi } from './gmail-api.ts';
import { registerGmailTools } from './tools.ts';

export const MCP_PATH = '/mcp';

function refuse(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

export async function startGmailServer(
  config: GmailServerConfig,
  log: (message: string) => void,
): Promise<Server> {
  const api = new GmailApi(config.endpoints.api, new AccessTokens(config));
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (new URL(request.url ?? '/', 'http://gmail').pathname !== MCP_PATH)
      return refuse(response, 404, `nothing here but ${MCP_PATH}`);
    // Stateless: no stream to resume and no session to end.
    if (request.method !== 'POST') return refuse(response, 405, 'this server takes POST only (stateless)');
    const server = new McpServer({ name: 'gmail', version: '0.1.0' });
    registerGmailTools(server, api);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  };
  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      log(`request failed: ${error.message}`);
      if (!response.headersSent) refuse(response, 500, 'the Gmail server failed; see its log');
      else response.destroy();
    });
  });
  await removeStaleSocket(config.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.socketPath, () => resolve());
  });
  return server;
}

/** A socket left by an earlier process is removed; anything else in its place is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket())
    throw new Error(`${path} is in the way of the Gmail server's socket: it is not a socket`);
  await unlink(path);
}
