/**
 * The MCP gateway: how a group's agents reach the MCP servers that run beside the host (host-servers.ts)
 * without ever holding their credential. Like the model proxy, it listens for each group on a unix
 * socket in the group's model dir (`data/model/{group}/mcp.sock`, mounted read-only at /workspace/model),
 * and a request must carry a live run token of that group (`Authorization: Bearer`, the input's
 * `mcpToken`). `/<server>/mcp` goes to that server when the group's configuration names it at this
 * moment (a server removed from the group is refused at once, mid-run too), with the token taken off:
 * streamable HTTP both ways (SSE included), hop-by-hop headers dropped.
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream';
import { MCP_NAME } from '@boilerhouse/nanoclaw-agent/mcp-config';
import { endToEnd } from '../agent/proxy-headers.ts';
import { type RunToken, RunTokens } from '../agent/run-tokens.ts';
import type { Logger } from '../log.ts';

/** `/<name>/mcp`, the name an MCP server's (MCP_NAME). */
const ROUTE = /^\/([^/]+)\/mcp$/;

export interface GatewayDeps {
  /** Whether `group` is configured with host server `name` now. */
  allowed(group: string, name: string): boolean;
  /** The socket of host server `name`, started when it is not running. */
  socketOf(name: string): Promise<string>;
  log: Logger;
}

export class McpGateway {
  readonly #deps: GatewayDeps;
  readonly #log: Logger;
  readonly #tokens = new RunTokens();
  readonly #servers = new Map<string, Promise<Server>>();

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'mcp-gateway' });
  }

  /** Starts listening for `group`'s agents on `socketPath` (once per group; later calls wait for it). */
  async serveGroup(group: string, socketPath: string): Promise<void> {
    let serving = this.#servers.get(group);
    if (serving === undefined) {
      serving = this.#listen(group, socketPath);
      this.#servers.set(group, serving);
      serving.catch(() => this.#servers.delete(group));
    }
    await serving;
  }

  /** A token for one run of `group`, good on that group's socket only, until revoked. */
  issueToken(group: string): RunToken {
    return this.#tokens.issue(group);
  }

  async close(): Promise<void> {
    const servers = await Promise.allSettled(this.#servers.values());
    this.#servers.clear();
    await Promise.all(
      servers.map((settled) =>
        settled.status === 'fulfilled'
          ? new Promise<void>((resolve) => {
              settled.value.closeAllConnections();
              settled.value.close(() => resolve());
            })
          : undefined,
      ),
    );
  }

  async #listen(group: string, socketPath: string): Promise<Server> {
    await mkdir(dirname(socketPath), { recursive: true, mode: 0o755 });
    await removeStaleSocket(socketPath);
    const server = createServer((request, response) => {
      this.#handle(group, request, response).catch((error: Error) => {
        this.#log.warn({ group, error: error.message }, 'MCP request failed at the gateway');
        if (!response.headersSent)
          refuse(response, 502, `the gateway could not reach the server: ${error.message}`);
        else response.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The agent runs as another uid; without a live token the socket gives nothing.
      server.listen({ path: socketPath, readableAll: true, writableAll: true }, () => resolve());
    });
    this.#log.info({ group, socket: socketPath }, 'MCP gateway listening');
    return server;
  }

  async #handle(group: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !this.#tokens.valid(group, token)) {
      request.resume();
      this.#log.warn({ group, path: request.url }, 'MCP request refused: no live run token of this group');
      return refuse(response, 401, `not a live run token of group ${group}`);
    }
    const url = new URL(request.url ?? '/', 'http://gateway');
    const name = ROUTE.exec(url.pathname)?.[1];
    if (name === undefined || !MCP_NAME.test(name) || !this.#deps.allowed(group, name)) {
      request.resume();
      this.#log.warn({ group, path: url.pathname }, 'MCP request refused: the group has no such server');
      return refuse(response, 404, `group ${group} has no MCP server at ${url.pathname}`);
    }
    const socketPath = await this.#deps.socketOf(name);
    const headers = endToEnd(request.headers);
    delete headers.authorization;
    delete headers.host;
    const upstream = httpRequest({
      socketPath,
      path: `/mcp${url.search}`,
      method: request.method,
      headers: { ...headers, host: name, 'x-nanoclaw-group': group },
    });
    const fail = (error: Error) => {
      this.#log.warn({ group, server: name, error: error.message }, 'MCP request failed on its way');
      if (!response.headersSent)
        refuse(response, 502, `the ${name} server could not be reached: ${error.message}`);
      else response.destroy(error);
    };
    upstream.on('error', fail);
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      response.flushHeaders();
      pipeline(answer, response, (error) => {
        if (error) fail(error);
      });
    });
    pipeline(request, upstream, (error) => {
      if (error) fail(error);
    });
  }
}

/** A JSON-RPC error, as an MCP client reports it. */
function refuse(response: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    error: { code: -32001, message: `NanoClaw's MCP gateway: ${message}` },
    id: null,
  });
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** A socket left by an earlier process is removed; anything else in its place is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket())
    throw new Error(`${path} is in the way of the MCP gateway's socket: it is not a socket`);
  await unlink(path);
}
