/**
 * One instance's filtered Docker socket: an HTTP server on a unix socket in a directory of its own (the
 * directory is what the container mounts, so the socket can be made again after a daemon restart and the
 * container sees it). Every request is parsed strictly, routed, read whole, judged, and only then sent on;
 * every refusal is answered with a JSON error, logged with the instance, endpoint and reason, and counted.
 *
 *   const proxy = await DockerProxy.open({ socketPath, instanceId, access, volumes, engine, ... });
 *   await proxy.removeChildren();   // on release
 *   await proxy.close();            // on destroy: children removed, socket gone
 */
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type { DockerAccessSpec } from '@boilerhouse/spec';
import type { Logger } from '../log.ts';
import type { Owner } from '../owner.ts';
import type { EngineClient } from '../runtime/engine-client.ts';
import type { InstanceVolume } from './binds.ts';
import { declaredLength, readBody } from './body.ts';
import type { RunAs } from './child-identity.ts';
import { CHILD_LABEL, Children, removeContainers } from './children.ts';
import type { ProxyContext, ProxyRequest } from './context.ts';
import { releaseStalePins } from './create.ts';
import { type DenialReason, ProxyDenial } from './denial.ts';
import { HANDLERS } from './handlers.ts';
import { ImageAllowlist } from './images.ts';
import { parseTarget } from './paths.ts';
import { BindPins } from './pins.ts';
import { hijack, relay } from './relay.ts';
import { type MatchedRoute, matchRoute } from './routes.ts';

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** Open connections per instance: enough for a few agents streaming at once, not enough to starve the daemon. */
const MAX_CONNECTIONS = 64;

export interface DockerProxyOptions {
  socketPath: string;
  /** Where pinned bind sources are mounted; not inside anything the instance mounts. */
  pinsDir: string;
  instanceId: string;
  workloadId: string;
  daemonId: string;
  access: DockerAccessSpec;
  /** The instance's network, which its children join, or `none`. */
  networkMode: string;
  volumes: InstanceVolume[];
  engine: EngineClient;
  log: Logger;
  /** The workload's user on the host, who gets the socket; anyone may connect when it is unknown. */
  owner?: Owner;
  /** Who its children run as (never root: `childUser` in @boilerhouse/spec). */
  runAs: RunAs;
  /**
   * The values of the secrets the instance's current tenant stored, by name (none when unclaimed), asked
   * at each create: no child's configuration may carry one.
   */
  tenantSecrets: () => Promise<ReadonlyMap<string, string>>;
  onDenied?: (denial: { endpoint: string; reason: DenialReason }) => void;
}

export class DockerProxy {
  readonly socketPath: string;
  readonly #options: DockerProxyOptions;
  readonly #server: Server;
  readonly #context: ProxyContext;
  readonly #log: Logger;
  readonly #work = new Set<Promise<unknown>>();
  /** Upgraded connections (attach, exec): the server no longer closes them itself. */
  readonly #streams = new Set<Duplex>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: DockerProxyOptions) {
    this.#options = options;
    this.socketPath = options.socketPath;
    this.#log = options.log.child({ instance: options.instanceId, workload: options.workloadId });
    const children = new Children(options.engine, options.instanceId);
    this.#context = {
      engine: options.engine,
      children,
      pins: new BindPins(options.pinsDir),
      images: new ImageAllowlist(options.access.images),
      policy: { access: options.access, networkMode: options.networkMode, runAs: options.runAs },
      tenantSecrets: options.tenantSecrets,
      volumes: options.volumes,
      childLabels: {
        [CHILD_LABEL.parent]: options.instanceId,
        [CHILD_LABEL.daemon]: options.daemonId,
        [CHILD_LABEL.workload]: options.workloadId,
      },
      execs: new Set(),
      verifiedImages: new Map(),
      pinned: new Map(),
      serialize: (work) => this.#serialize(work),
      background: (work) => {
        this.#track(
          work().catch((error) => this.#log.warn({ error }, 'docker proxy: background work failed')),
        );
      },
    };
    this.#server = createServer({ requireHostHeader: false }, (request, response) => {
      this.#track(this.#serve(request, response));
    });
    this.#server.maxConnections = MAX_CONNECTIONS;
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#track(this.#upgrade(request, socket, head));
    });
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      // A caller hanging up (ECONNRESET, EPIPE) is not a malformed request; llhttp's refusals are HPE_*.
      if (!error.code?.startsWith('HPE_')) {
        socket.destroy();
        return;
      }
      const denial = new ProxyDenial(
        400,
        'malformed_request',
        `malformed HTTP request (${error.code ?? error.message})`,
      );
      this.#record(denial, 'unmatched', 'HTTP');
      if (socket.writable) socket.end(rawResponse(denial.status, denial.body()));
      else socket.destroy();
    });
  }

  /** Serves the instance's socket (replacing a stale one) and releases pins of containers that are gone. */
  static async open(options: DockerProxyOptions): Promise<DockerProxy> {
    if (Buffer.byteLength(options.socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(
        `the Docker socket path ${options.socketPath} is ${Buffer.byteLength(options.socketPath)} bytes, over the ${MAX_SOCKET_PATH_BYTES} a unix socket may have: use a shorter data directory`,
      );
    }
    const proxy = new DockerProxy(options);
    await mkdir(dirname(options.socketPath), { recursive: true, mode: 0o755 });
    await rm(options.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(options.socketPath, () => {
        proxy.#server.off('error', reject);
        resolve();
      });
    });
    if (options.owner === undefined) await chmod(options.socketPath, 0o666);
    else {
      await chown(options.socketPath, options.owner.uid, options.owner.gid);
      await chmod(options.socketPath, 0o660);
    }
    await releaseStalePins(proxy.#context);
    return proxy;
  }

  /** Kills and removes every child (release), and unmounts their pinned bind sources. */
  async removeChildren(): Promise<number> {
    return this.#serialize(async () => {
      const ids = (await this.#context.children.list()).map((child) => child.Id);
      await removeContainers(this.#options.engine, ids);
      for (const id of ids) this.#context.children.forget(id);
      await this.#context.pins.releaseAllBut();
      if (ids.length > 0)
        this.#log.info({ children: ids.length }, 'docker proxy: removed the containers of the instance');
      return ids.length;
    });
  }

  /** Stops serving: open connections are cut and the socket file goes. Children are left as they are. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const stream of this.#streams) stream.destroy();
    await closed;
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let matched: MatchedRoute | undefined;
    try {
      matched = matchRoute(request.method ?? '', parseTarget(request.url ?? ''));
      const body = await readBody(request);
      const outcome = await HANDLERS[matched.route.name](
        this.#context,
        this.#request(request, matched, body),
      );
      const rename = (text: string) => text.replaceAll(this.#context.children.prefix, '');
      if (outcome.kind === 'reply') {
        const body =
          outcome.status >= 300 ? Buffer.from(rename(outcome.body.toString('utf8'))) : outcome.body;
        response.writeHead(outcome.status, {
          'content-type': 'application/json',
          'content-length': body.length,
        });
        response.end(body);
      } else {
        await relay(this.#options.engine, outcome, response, rename);
      }
    } catch (error) {
      const denial = this.#denialOf(error, matched, request.method ?? '');
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // After a refusal the rest of the connection is not trusted: close it.
      response.writeHead(denial.status, { 'content-type': 'application/json', connection: 'close' });
      response.end(denial.body());
      request.resume();
    }
  }

  /** attach and exec start with `Upgrade: tcp`: the body (if any) is read from the raw socket first. */
  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.#streams.add(socket);
    socket.once('close', () => this.#streams.delete(socket));
    let matched: MatchedRoute | undefined;
    try {
      matched = matchRoute(request.method ?? '', parseTarget(request.url ?? ''));
      if (!matched.route.upgrade) {
        throw new ProxyDenial(
          400,
          'endpoint',
          `${matched.route.template} cannot be upgraded to a raw stream`,
        );
      }
      const length = declaredLength(request.headers);
      if (length === undefined) throw new ProxyDenial(400, 'body', 'an upgraded request cannot be chunked');
      const { body, rest } = await readExactly(socket, head, length);
      const outcome = await HANDLERS[matched.route.name](
        this.#context,
        this.#request(request, matched, body),
      );
      if (outcome.kind !== 'forward') throw new Error(`${matched.route.template} gave no request to forward`);
      hijack(this.#options.engine, outcome, socket, rest, (text) =>
        text.replaceAll(this.#context.children.prefix, ''),
      );
    } catch (error) {
      const denial = this.#denialOf(error, matched, request.method ?? '');
      if (socket.writable) socket.end(rawResponse(denial.status, denial.body()));
      else socket.destroy();
    }
  }

  #request(request: IncomingMessage, matched: MatchedRoute, body: Buffer): ProxyRequest {
    return {
      method: request.method ?? '',
      param: matched.param,
      query: matched.query,
      body,
      headers: request.headers,
    };
  }

  /** The refusal to answer with; other failures (the engine unreachable) become a 502. */
  #denialOf(error: unknown, matched: MatchedRoute | undefined, method: string): ProxyDenial {
    const endpoint = matched === undefined ? 'unmatched' : matched.route.template;
    if (error instanceof ProxyDenial) {
      this.#record(error, endpoint, method);
      return error;
    }
    this.#log.warn({ endpoint, method, error }, 'docker proxy: the request failed');
    return new ProxyDenial(502, 'engine', `the request could not be completed: ${(error as Error).message}`, {
      quiet: true,
    });
  }

  #record(denial: ProxyDenial, endpoint: string, method: string): void {
    if (denial.quiet) return;
    const label = endpoint === 'unmatched' ? endpoint : `${method} ${endpoint}`;
    // The message names fields and paths, never values of the body such as the environment.
    this.#log.warn(
      { endpoint: label, reason: denial.reason, status: denial.status, message: denial.message },
      'docker proxy: request refused',
    );
    this.#options.onDenied?.({ endpoint: label, reason: denial.reason });
  }

  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #track(work: Promise<unknown>): void {
    this.#work.add(work);
    void work.finally(() => this.#work.delete(work));
  }
}

/** `length` body bytes from what the parser left (`head`) and then the socket; the rest is the stream. */
function readExactly(socket: Duplex, head: Buffer, length: number): Promise<{ body: Buffer; rest: Buffer }> {
  if (head.length >= length)
    return Promise.resolve({ body: head.subarray(0, length), rest: head.subarray(length) });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [head];
    let size = head.length;
    const done = (error?: Error) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (error !== undefined) return reject(error);
      const buffered = Buffer.concat(chunks);
      resolve({ body: buffered.subarray(0, length), rest: buffered.subarray(length) });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= length) done();
    };
    const onEnd = () =>
      done(new ProxyDenial(400, 'body', 'the connection closed before the whole body came'));
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.resume();
  });
}

function rawResponse(status: number, body: string): string {
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Payload Too Large',
  502: 'Bad Gateway',
};
