/**
 * Carrying an outcome to the engine and its answer back. Answers stream through (logs, wait, events,
 * attach): headers are sent as soon as the engine sends them, the body as it comes, and the engine request
 * is dropped when the caller goes away. Error answers are read whole so that child names lose their
 * instance prefix. Upgrades (attach, exec start) become a raw two-way pipe, but only once the engine has
 * agreed to upgrade: until then the caller's bytes are never passed on, so nothing can be smuggled to the
 * engine as a request of its own.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type EngineClient, parseDockerHost, readBody } from '../runtime/engine-client.ts';
import type { Outcome } from './context.ts';

const API_PREFIX = '/v1.41';
/** Engine headers worth passing on; hop-by-hop and framing headers are the proxy's own. */
const PASSED_HEADERS = [
  'content-type',
  'api-version',
  'docker-experimental',
  'ostype',
  'server',
  'cache-control',
  'pragma',
];

type Forward = Extract<Outcome, { kind: 'forward' }>;

/** Sends `outcome` to the engine and the answer to `response`. */
export async function relay(
  engine: EngineClient,
  outcome: Forward,
  response: ServerResponse,
  rename: (text: string) => string,
): Promise<void> {
  const abort = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  let upstream: IncomingMessage;
  try {
    upstream = await engine.open(outcome.method, outcome.path, {
      ...(outcome.body === undefined ? {} : { body: outcome.body }),
      signal: abort.signal,
    });
  } catch (error) {
    if (abort.signal.aborted) return;
    throw error;
  }
  const status = upstream.statusCode ?? 502;
  outcome.after?.(status);
  const headers = passedHeaders(upstream);
  if (status >= 300 || outcome.view !== undefined) {
    let body = await readBody(upstream);
    if (status >= 300) body = Buffer.from(rename(body.toString('utf8')));
    else if (outcome.view) body = outcome.view(body);
    response.writeHead(status, { ...headers, 'content-length': body.length });
    response.end(body);
    return;
  }
  const length = outcome.stream ? undefined : upstream.headers['content-length'];
  response.writeHead(status, length === undefined ? headers : { ...headers, 'content-length': length });
  // Streams (wait, logs, events) hold their headers back otherwise, and the caller waits on them.
  response.flushHeaders();
  try {
    await (outcome.stream ? pipeline(upstream, outcome.stream(), response) : pipeline(upstream, response));
  } catch {
    // The caller or the engine hung up mid-stream: there is no one left to tell.
    upstream.destroy();
  }
}

/**
 * An upgraded request: POST with `Upgrade: tcp` to the engine, and on its 101 a two-way pipe between it and
 * `client` (whose bytes after the request, `pending`, go first). Any other answer is passed on and the
 * connection closed.
 */
export function hijack(
  engine: EngineClient,
  outcome: Forward,
  client: Duplex,
  pending: Buffer,
  rename: (text: string) => string,
): void {
  const payload = outcome.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(outcome.body));
  const upstream = httpRequest({
    ...parseDockerHost(engine.dockerHost),
    // A connection of its own: once upgraded it is no longer HTTP and cannot go back to a pool.
    agent: false,
    method: outcome.method,
    path: API_PREFIX + outcome.path,
    headers: {
      host: 'docker',
      connection: 'Upgrade',
      upgrade: 'tcp',
      'content-type': 'application/json',
      'content-length': payload.length,
    },
  });
  const fail = () => {
    upstream.destroy();
    client.destroy();
  };
  client.on('error', fail);
  client.on('close', () => upstream.destroy());
  upstream.on('error', fail);
  upstream.on('upgrade', (answer: IncomingMessage, engineSocket: Duplex, engineHead: Buffer) => {
    outcome.after?.(101);
    const head = [`HTTP/1.1 101 UPGRADED`];
    for (const [name, value] of Object.entries(passedHeaders(answer))) head.push(`${name}: ${value}`);
    client.write(`${head.join('\r\n')}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (engineHead.length > 0) client.write(engineHead);
    if (pending.length > 0) engineSocket.write(pending);
    engineSocket.on('error', () => client.destroy());
    // The engine closing ends the caller's side through the pipe, after what is still buffered.
    client.on('close', () => engineSocket.destroy());
    // Half-closes pass through: the caller ending stdin must not cut the output still coming.
    client.pipe(engineSocket);
    engineSocket.pipe(client);
  });
  upstream.on('response', async (answer: IncomingMessage) => {
    const status = answer.statusCode ?? 502;
    outcome.after?.(status);
    const body = Buffer.from(rename((await readBody(answer)).toString('utf8')));
    const headers = Object.entries({
      ...passedHeaders(answer),
      'content-length': body.length,
      connection: 'close',
    });
    client.end(
      Buffer.concat([
        Buffer.from(
          `HTTP/1.1 ${status} ${answer.statusMessage ?? ''}\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`,
        ),
        body,
      ]),
    );
  });
  upstream.end(payload);
}

function passedHeaders(answer: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = answer.headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
