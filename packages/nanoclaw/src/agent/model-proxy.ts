/**
 * The model proxy: agent containers never hold the model's credential. Each group's agents reach the model
 * through a unix socket in a directory mounted into their container (no network path to the host, the
 * same standalone and under Boilerhouse, where bind mounts carry the socket across). A request must carry
 * a live run token of that socket's group (RunTokens); the proxy swaps it for the real credential and
 * forwards to the configured endpoint, streaming both ways: status, headers (hop-by-hop ones dropped) and
 * bodies (SSE included) pass through as they come. Only the Messages API's paths are forwarded. Each
 * `/v1/messages` request is counted for its group from the answer itself as it passes (usage-meter.ts).
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream';
import type { Logger } from '../log.ts';
import { NO_USAGE, type UsageTotals } from '../store/usage.ts';
import { endToEnd, type ModelCredential, presentedToken, upstreamHeaders } from './proxy-headers.ts';
import { type RunToken, RunTokens } from './run-tokens.ts';
import { UsageMeter } from './usage-meter.ts';

export const DEFAULT_MODEL_ENDPOINT = 'https://api.anthropic.com';
/** What the agent's CLI calls; anything else (other APIs the credential may open) is refused. */
const FORWARDED_PATHS = new Set(['/v1/messages', '/v1/messages/count_tokens']);
/** The path whose answers carry usage (count_tokens is free). */
const METERED_PATH = '/v1/messages';
/** sun_path is 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface ModelProxyOptions {
  credential: ModelCredential;
  /** ANTHROPIC_BASE_URL; the Anthropic API when unset. */
  endpoint: string | undefined;
  log: Logger;
  /** Called once per finished `/v1/messages` request with what it used (an error counts one). */
  recordUsage?(group: string, usage: UsageTotals): void;
}

export class ModelProxy {
  readonly #credential: ModelCredential;
  readonly #endpoint: URL;
  readonly #log: Logger;
  readonly #recordUsage: (group: string, usage: UsageTotals) => void;
  readonly #tokens = new RunTokens();
  readonly #servers = new Map<string, Promise<Server>>();

  constructor(options: ModelProxyOptions) {
    this.#credential = options.credential;
    this.#endpoint = new URL(options.endpoint ?? DEFAULT_MODEL_ENDPOINT);
    this.#log = options.log.child({ component: 'model-proxy' });
    this.#recordUsage = options.recordUsage ?? (() => undefined);
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

  /** A token for one run of `group`, valid on that group's socket only, until revoked. */
  issueToken(group: string): RunToken {
    return this.#tokens.issue(group);
  }

  /** Tokens not yet revoked (runs in progress). */
  get liveTokens(): number {
    return this.#tokens.size;
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
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(
        `model proxy socket ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket limit): use a shorter NANOCLAW_HOME`,
      );
    }
    await mkdir(dirname(socketPath), { recursive: true, mode: 0o755 });
    await removeStaleSocket(socketPath);
    const server = createServer((request, response) => this.#handle(group, request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The agent runs as another uid; without a live token the socket gives nothing.
      server.listen({ path: socketPath, readableAll: true, writableAll: true }, () => resolve());
    });
    this.#log.info({ group, socket: socketPath, endpoint: this.#endpoint.origin }, 'model proxy listening');
    return server;
  }

  #handle(group: string, request: IncomingMessage, response: ServerResponse): void {
    const token = presentedToken(request.headers);
    if (token === undefined || !this.#tokens.valid(group, token)) {
      request.resume();
      this.#log.warn({ group, path: request.url }, 'model request refused: no live run token of this group');
      sendApiError(
        response,
        401,
        'authentication_error',
        `NanoClaw's model proxy refused the key: it is not a live run token of group ${group} (wrong, from a run that has ended, or another group's)`,
      );
      return;
    }
    const url = new URL(request.url ?? '/', 'http://model-proxy');
    if (request.method !== 'POST' || !FORWARDED_PATHS.has(url.pathname)) {
      request.resume();
      sendApiError(
        response,
        404,
        'not_found_error',
        `NanoClaw's model proxy forwards only POST ${[...FORWARDED_PATHS].join(', ')}; not ${request.method} ${url.pathname}`,
      );
      return;
    }
    this.#forward(group, request, response, url);
  }

  #forward(group: string, request: IncomingMessage, response: ServerResponse, url: URL): void {
    const target = new URL(this.#endpoint.href);
    target.pathname = `${target.pathname.replace(/\/+$/, '')}${url.pathname}`;
    target.search = url.search;
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream: ClientRequest = send(target, {
      method: 'POST',
      headers: upstreamHeaders(request.headers, this.#credential),
    });
    let recorded = url.pathname !== METERED_PATH;
    const record = (usage: UsageTotals) => {
      if (recorded) return;
      recorded = true;
      try {
        this.#recordUsage(group, usage);
      } catch (error) {
        this.#log.error({ group, error }, 'model usage could not be recorded');
      }
    };
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      record({ ...NO_USAGE, requests: 1, errors: 1 });
      upstream.destroy();
      // Never the credential: only the endpoint's origin (no user info) and the error's own message.
      this.#log.warn(
        { group, endpoint: target.origin, path: url.pathname, error: error.message },
        'model request failed on its way',
      );
      if (!response.headersSent) {
        sendApiError(
          response,
          502,
          'api_error',
          `NanoClaw's model proxy could not reach the model endpoint ${target.origin}: ${error.message}`,
        );
      } else response.destroy(error);
    };
    upstream.on('error', fail);
    // The agent gave up before the endpoint answered: stop waiting for it.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      // SSE: the status and headers go out now, each event as it arrives.
      response.flushHeaders();
      const meter = new UsageMeter(answer.statusCode ?? 502, answer.headers['content-type']);
      answer.on('data', (chunk: Buffer) => meter.write(chunk));
      pipeline(answer, response, (error) => {
        record(meter.finish(error === undefined || error === null));
        if (error) fail(error);
      });
    });
    pipeline(request, upstream, (error) => {
      if (error) fail(error);
    });
  }
}

/** The Messages API's error shape, so the agent's CLI reports it as the API's own. */
function sendApiError(response: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ type: 'error', error: { type, message } });
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
    throw new Error(`${path} is in the way of the model proxy socket: it is not a socket`);
  await unlink(path);
}
