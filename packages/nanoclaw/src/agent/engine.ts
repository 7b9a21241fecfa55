/**
 * The few Docker Engine API calls agent runs need, over node:http: create, attach, start, wait, inspect,
 * kill, remove, list. No SDK: dockerode loads ~150 modules (gRPC, protobuf, ssh2) for this, which cost the
 * host ~140 ms of every start and ~20 MiB of memory for as long as it runs.
 *
 * An answer of the engine with a status of 400 or more rejects with an EngineError carrying `statusCode`;
 * a connection that fails rejects with Node's own error (its `code`: ENOENT, ECONNREFUSED, ...), so that
 * engine-wait.ts can tell an engine that said no from one that could not be reached.
 */
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';

export class EngineError extends Error {
  readonly statusCode: number;

  constructor(message: string, statusCode: number) {
    super(message);
    this.name = 'EngineError';
    this.statusCode = statusCode;
  }
}

interface Address {
  socketPath?: string;
  host?: string;
  port?: number;
}

/** `unix:///path` or `tcp://host:port` (plain HTTP), or the local socket when unset. */
function addressOf(dockerHost: string | undefined): Address {
  if (dockerHost === undefined || dockerHost === '') return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('tcp://')) {
    const url = new URL(`http://${dockerHost.slice('tcp://'.length)}`);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
  }
  throw new Error(`DOCKER_HOST ${JSON.stringify(dockerHost)}: expected unix:///path or tcp://host:port`);
}

/** What `POST /containers/create` takes, as far as agent runs set it. */
export interface CreateBody {
  Image: string;
  Cmd?: string[];
  User: string;
  WorkingDir: string;
  Env: string[];
  Labels: Record<string, string>;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Tty: boolean;
  HostConfig: Record<string, unknown>;
}

export interface ContainerState {
  Running: boolean;
  ExitCode?: number;
}

export class Engine {
  readonly #address: Address;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(dockerHost: string | undefined) {
    this.#address = addressOf(dockerHost);
  }

  async createContainer(name: string, body: CreateBody): Promise<EngineContainer> {
    const created = await this.#json<{ Id: string }>(
      'POST',
      `/containers/create?name=${encodeURIComponent(name)}`,
      body,
    );
    return new EngineContainer(this, created.Id);
  }

  container(id: string): EngineContainer {
    return new EngineContainer(this, id);
  }

  /** Ids of the containers that carry every one of `labels` (`key=value`): running ones, or `all`. */
  async listContainers(labels: string[], all = true): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    const listed = await this.#json<{ Id: string }[]>(
      'GET',
      `/containers/json?all=${all ? 1 : 0}&filters=${filters}`,
    );
    return listed.map((container) => container.Id);
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }

  /** One call; the body of a success parsed as JSON (undefined when empty). */
  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.call(method, path, body);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** One call: the body of its answer, or an EngineError for a status of 400 or more. */
  call(method: string, path: string, body?: unknown): Promise<string> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = this.#request(method, path, payload, this.#agent);
      req.on('response', (response) => {
        readAll(response).then((text) => {
          const status = response.statusCode ?? 0;
          if (status < 400) resolve(text);
          else
            reject(new EngineError(`${method} ${path.split('?')[0]}: ${status} ${messageOf(text)}`, status));
        }, reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * The connection taken over as the container's stdin and its multiplexed stdout and stderr (no TTY),
   * on a connection of its own: the engine answers 101 and the socket is the stream from then on.
   */
  hijack(path: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const req = this.#request('POST', path, undefined, false, {
        Connection: 'Upgrade',
        Upgrade: 'tcp',
      });
      req.on('upgrade', (_response, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (response) => {
        readAll(response).then((text) => {
          const status = response.statusCode ?? 0;
          reject(new EngineError(`POST ${path.split('?')[0]}: ${status} ${messageOf(text)}`, status));
        }, reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  #request(
    method: string,
    path: string,
    payload: Buffer | undefined,
    agent: Agent | false,
    headers: Record<string, string> = {},
  ): ClientRequest {
    return request({
      ...this.#address,
      agent,
      method,
      path,
      headers: {
        ...headers,
        ...(payload ? { 'content-type': 'application/json' } : {}),
        'content-length': payload?.length ?? 0,
      },
    });
  }
}

export class EngineContainer {
  readonly id: string;
  readonly #engine: Engine;

  constructor(engine: Engine, id: string) {
    this.#engine = engine;
    this.id = id;
  }

  /** stdin, stdout and stderr, streamed from now on; the output multiplexed (see demux). */
  attach(): Promise<Socket> {
    return this.#engine.hijack(`/containers/${this.id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
  }

  async start(): Promise<void> {
    await this.#engine.call('POST', `/containers/${this.id}/start`);
  }

  /** Resolves when the container has exited, with its exit code. */
  async wait(): Promise<{ StatusCode?: number }> {
    return JSON.parse(await this.#engine.call('POST', `/containers/${this.id}/wait`));
  }

  async inspect(): Promise<{ State: ContainerState }> {
    return JSON.parse(await this.#engine.call('GET', `/containers/${this.id}/json`));
  }

  async kill(): Promise<void> {
    await this.#engine.call('POST', `/containers/${this.id}/kill`);
  }

  async remove(): Promise<void> {
    await this.#engine.call('DELETE', `/containers/${this.id}?force=1`);
  }
}

/**
 * Splits the engine's multiplexed stream (frames of an 8-byte header: stream type, three zero bytes,
 * big-endian payload length; then the payload; chunks may cut frames anywhere) into stdout and stderr.
 */
export function demux(
  stream: NodeJS.ReadableStream,
  onOutput: (stderr: boolean, chunk: Buffer) => void,
): void {
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    let buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    while (buffer.length >= 8) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < 8 + size) break;
      onOutput(buffer[0] === 2, buffer.subarray(8, 8 + size));
      buffer = buffer.subarray(8 + size);
    }
    // Copied, so that a partial frame kept does not pin the whole chunk it came in.
    pending = Buffer.from(buffer);
  });
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The engine answers errors as `{"message": "..."}`; its words name the container or image. */
function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON (a proxy in the way): the raw text is the best there is.
  }
  return text.trim() || '(no message)';
}
