/**
 * A minimal Docker Engine API client over node:http: no SDK and no CLI, because every claim waits on these
 * calls and a process spawn or an extra dependency layer would cost more than the engine itself.
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import { RuntimeError } from './runtime.ts';

/** Every path is pinned to the API version the engine in setup speaks, so its JSON shape cannot drift. */
const apiPrefix = '/v1.41';
const defaultDockerHost = 'unix:///var/run/docker.sock';

export interface EngineResponse {
  status: number;
  body: Buffer;
}

export interface RequestOptions {
  /** JSON-encoded as the request body. */
  body?: unknown;
  signal?: AbortSignal;
}

interface EngineAddress {
  socketPath?: string;
  host?: string;
  port?: number;
}

/** `unix:///path` or `tcp://host:port` (plain HTTP; TLS is not supported). */
export function parseDockerHost(dockerHost: string): EngineAddress {
  if (dockerHost.startsWith('unix://')) {
    const socketPath = dockerHost.slice('unix://'.length);
    if (socketPath !== '') return { socketPath };
  } else if (dockerHost.startsWith('tcp://')) {
    const url = new URL(`http://${dockerHost.slice('tcp://'.length)}`);
    if (url.hostname !== '')
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
  }
  throw new RuntimeError(
    `unsupported DOCKER_HOST ${JSON.stringify(dockerHost)}: expected unix:///path or tcp://host:port`,
  );
}

export class EngineClient {
  readonly dockerHost: string;
  readonly #address: EngineAddress;
  // Keep-alive: reusing the socket saves a connect per call, which matters at ~10ms per unpause.
  readonly #agent = new Agent({ keepAlive: true });

  constructor(dockerHost?: string) {
    this.dockerHost = dockerHost || defaultDockerHost;
    this.#address = parseDockerHost(this.dockerHost);
  }

  /** Sends one request and resolves with the response head; the caller reads (or discards) the body. */
  open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.#address,
          agent: this.#agent,
          method,
          path: apiPrefix + path,
          signal: options.signal,
          headers: payload
            ? { 'content-type': 'application/json', 'content-length': payload.length }
            : { 'content-length': 0 },
        },
        resolve,
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (options.signal?.aborted) reject(error);
        else reject(this.#connectionError(method, path, error));
      });
      req.end(payload);
    });
  }

  /** Sends one request and reads the whole body; a status of 400 or more rejects with a RuntimeError. */
  async call(method: string, path: string, options: RequestOptions = {}): Promise<EngineResponse> {
    const response = await this.open(method, path, options);
    const body = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status >= 400) throw engineError(method, path, status, body);
    return { status, body };
  }

  /** `call`, with the body parsed as JSON. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { body } = await this.call(method, path, options);
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }

  #connectionError(method: string, path: string, cause: NodeJS.ErrnoException): RuntimeError {
    const origin =
      process.env.DOCKER_HOST === this.dockerHost
        ? ' (from DOCKER_HOST)'
        : this.dockerHost === defaultDockerHost
          ? ' (the default; set DOCKER_HOST to change it)'
          : '';
    return new RuntimeError(
      `cannot reach the Docker engine at ${this.dockerHost}${origin}: ${method} ${path}: ${cause.message}`,
      { cause },
    );
  }
}

/** Reads a response body fully. */
export async function readBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The engine answers errors as `{"message": "..."}`; keep its words, they name the container or image. */
export function engineError(method: string, path: string, status: number, body: Buffer): RuntimeError {
  const text = body.toString('utf8').trim();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (a proxy in the way, say): the raw text is the best there is.
  }
  return new RuntimeError(`Docker engine: ${method} ${path} -> ${status}: ${message || '(no message)'}`, {
    status,
  });
}
