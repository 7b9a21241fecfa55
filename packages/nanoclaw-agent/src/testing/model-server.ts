/**
 * A scripted Anthropic Messages API server for tests: the real Agent SDK (and its `claude` CLI) talks to
 * it through `ANTHROPIC_BASE_URL`, and a Responder decides each reply. Replies stream as the API's SSE
 * (or one JSON message when the client did not ask to stream).
 *
 * By default it listens on the host's address on Docker's bridge (e.g. 172.17.0.1), for clients in
 * containers that call it directly (a NanoClaw host run as a Boilerhouse workload). Agent runs reach it
 * through the host's model proxy, which is on this machine: pass `host: '127.0.0.1'` for those.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { assistantMessage, estimateTokens, type MessageUsage, streamEvents } from './message-stream.ts';
import type { MessagesRequest, Responder } from './messages.ts';

export type { MessageUsage } from './message-stream.ts';
export type {
  MessagesRequest,
  RequestBlock,
  RequestMessage,
  Responder,
  ScriptedBlock,
  ScriptedReply,
  TextBlock,
  ToolDefinition,
  ToolResultBlock,
  ToolUseBlock,
} from './messages.ts';

export interface ModelServer {
  /** Base URL for `ANTHROPIC_BASE_URL`. */
  url: string;
  /** Every `POST /v1/messages` body, in arrival order. */
  requests: MessagesRequest[];
  /** Requests to any other path (method and path), answered 404: what a client tried beyond messages. */
  otherRequests: string[];
  /** Every request's method, path and headers (credentials included), in arrival order. */
  received: ReceivedRequest[];
  /** The usage reported with each answered message (streamed or not), in answer order. */
  usage: MessageUsage[];
  close(): Promise<void>;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

const exec = promisify(execFile);
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The host's address on Docker's default bridge network, where containers reach this machine. Engines
 * differ in what `docker network inspect bridge` shows: docker.io 20.10 leaves IPAM's Gateway out (its
 * Config is only the Subnet), while the bridge's interface name is always in its Options. So the address
 * comes from that interface (docker0) first, and from IPAM's Gateway when the interface is not here.
 */
export async function dockerBridgeGateway(): Promise<string> {
  let network: { IPAM?: { Config?: Array<{ Gateway?: string }> | null }; Options?: Record<string, string> };
  try {
    const { stdout } = await exec('docker', ['network', 'inspect', 'bridge', '--format', '{{json .}}']);
    network = JSON.parse(stdout);
  } catch (error) {
    throw new Error(
      `model server: cannot find Docker's bridge gateway (docker network inspect bridge): ${(error as Error).message}`,
    );
  }
  const name = network.Options?.['com.docker.network.bridge.name'];
  const address = name === undefined ? undefined : await interfaceIpv4(name);
  if (address !== undefined) return address;
  const gateway = network.IPAM?.Config?.map((config) => config.Gateway).find(
    (candidate) => candidate !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(candidate),
  );
  if (gateway !== undefined) return gateway;
  throw new Error(
    `model server: cannot find Docker's bridge gateway: no IPv4 address on interface ${name ?? '(unnamed)'} and no IPAM Gateway`,
  );
}

/**
 * The IPv4 address of a host interface, whether or not its link is up. Not os.networkInterfaces(): it
 * leaves out interfaces that are down, as docker0 is whenever no container is on it (instances of
 * Boilerhouse live on networks of their own), and its address still answers from every other network.
 */
async function interfaceIpv4(name: string): Promise<string | undefined> {
  const { stdout } = await exec('ip', ['-j', '-4', 'addr', 'show', 'dev', name]).catch(() => ({
    stdout: '[]',
  }));
  const links = JSON.parse(stdout) as { addr_info?: { family?: string; local?: string }[] }[];
  return links[0]?.addr_info?.find((info) => info.family === 'inet')?.local;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendError(response: ServerResponse, status: number, type: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ type: 'error', error: { type, message } }));
}

/** Parses a messages body, or says what is wrong with it. */
function parseMessagesRequest(text: string): MessagesRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return `body is not JSON: ${(error as Error).message}`;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const candidate = body as Partial<MessagesRequest>;
  if (typeof candidate.model !== 'string') return 'model: expected a string';
  if (!Array.isArray(candidate.messages)) return 'messages: expected an array';
  return candidate as MessagesRequest;
}

export async function startModelServer(
  respond: Responder,
  options: { host?: string } = {},
): Promise<ModelServer> {
  const host = options.host ?? (await dockerBridgeGateway());
  const requests: MessagesRequest[] = [];
  const otherRequests: string[] = [];
  const received: ReceivedRequest[] = [];
  const usage: MessageUsage[] = [];

  const answerMessages = async (body: string, response: ServerResponse) => {
    const parsed = parseMessagesRequest(body);
    if (typeof parsed === 'string') return sendError(response, 400, 'invalid_request_error', parsed);
    requests.push(parsed);
    let reply: Awaited<ReturnType<Responder>>;
    try {
      reply = await respond(parsed);
    } catch (error) {
      // 400, not 500: the CLI retries a 5xx with back-off for minutes; a broken script should fail fast.
      return sendError(
        response,
        400,
        'invalid_request_error',
        `responder failed: ${(error as Error).message}`,
      );
    }
    if (!Array.isArray(reply)) {
      const type = reply.error.status === 429 ? 'rate_limit_error' : 'api_error';
      return sendError(response, reply.error.status, type, reply.error.message);
    }
    const message = assistantMessage(parsed, reply);
    usage.push(message.usage);
    if (parsed.stream !== true) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(message));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of streamEvents(message)) response.write(event);
    response.end();
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    received.push({ method: request.method ?? 'GET', path, headers: request.headers });
    readBody(request).then(
      async (body) => {
        if (request.method === 'POST' && path === '/v1/messages') return answerMessages(body, response);
        if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ input_tokens: estimateTokens(body) }));
          return;
        }
        otherRequests.push(`${request.method} ${path}`);
        sendError(response, 404, 'not_found_error', `the scripted model server has no ${path}`);
      },
      (error: Error) => sendError(response, 413, 'request_too_large', error.message),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    otherRequests,
    received,
    usage,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
