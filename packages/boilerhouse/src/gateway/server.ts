/**
 * The gateway: tenants' front door, served by the socket host (proxy/host/) so that it outlives a daemon
 * restart. One request:
 *
 *   parseTarget (strict: 400 on any ambiguity) -> the workload's gateway settings -> the access link (cookie
 *   or Bearer; one 401 for every refusal) -> the tenant's route, or held while the daemon wakes the tenant
 *   (held.ts) -> http-proxy-3 to the instance's own network address, streaming both ways.
 *
 * `/_boilerhouse/link?token=...` under a tenant's address redeems an access link: an HttpOnly, SameSite=Lax
 * cookie for that tenant's origin (host form) or path (path form), and a redirect to the tenant's page.
 */
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from '../log.ts';
import { type Answer, REFUSAL, send, sendOnSocket } from './answers.ts';
import { TrafficCounts } from './counts.ts';
import { dropGatewayCredentials, dropHopByHop, LINK_COOKIE, presentedLink, setForwarded } from './headers.ts';
import { HeldRequests, WakeFailed } from './held.ts';
import { GatewayTable } from './table.ts';
import { parseTarget, type Target } from './target.ts';
import type { GatewayListen, GatewayRoute, WakeAsk } from './wire.ts';

/** Reserved under every tenant's address: the gateway's own paths. */
const OWN_PREFIX = '/_boilerhouse/';
const LINK_PATH = '/_boilerhouse/link';

export interface GatewayServerOptions {
  log: Logger;
  /** Sends a wake request to the daemon connected now (none: it is sent when one connects). */
  ask: (ask: WakeAsk) => void;
}

type Admitted = { target: Target; route: GatewayRoute } | { answer: Answer; workload?: string };

export class GatewayServer {
  readonly table = new GatewayTable();
  readonly held: HeldRequests;
  readonly counts = new TrafficCounts();
  readonly #log: Logger;
  /** Keep-alive connections to instances, shared by every tenant (each instance is its own host:port). */
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  readonly #proxy = createProxyServer({ agent: this.#agent, ws: true, xfwd: false, changeOrigin: false });
  #server: Server | undefined;
  #listen: GatewayListen | undefined;
  #port = 0;

  constructor(options: GatewayServerOptions) {
    this.#log = options.log;
    this.held = new HeldRequests(options.ask);
    this.table.onRoute = (key, route) => this.held.routed(key, route);
    // What the instance answers loses its hop-by-hop headers too.
    this.#proxy.on('proxyRes', (proxyRes) => dropHopByHop(proxyRes.headers, { upgrade: false }));
  }

  /** Listens (again only when the address changed); the port it listens on. */
  async listen(listen: GatewayListen): Promise<{ port: number }> {
    const before = this.#listen;
    if (
      before !== undefined &&
      before.host === listen.host &&
      (listen.port === 0 || listen.port === this.#port)
    ) {
      this.#listen = { ...listen, port: this.#port };
      return { port: this.#port };
    }
    await this.close();
    const server = createServer({ requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 65_000 });
    server.on('request', (req, res) => void this.#request(req, res));
    server.on('upgrade', (req, socket, head) => void this.#upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : listen.port;
    this.#server = server;
    this.#listen = { ...listen, port: this.#port };
    this.#log.info({ host: listen.host, port: this.#port, domain: listen.domain }, 'gateway: serving');
    return { port: this.#port };
  }

  get listening(): boolean {
    return this.#server !== undefined;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#listen = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const admitted = await this.#admit(req, gone.signal, res);
    if (admitted === undefined) return;
    if ('answer' in admitted) {
      if (admitted.workload !== undefined) this.counts.refused(admitted.workload, admitted.answer.status);
      send(res, admitted.answer);
      return;
    }
    const { target, route } = admitted;
    this.#prepare(req, target, false);
    const end = this.counts.open(route.instanceId, route.workload);
    res.on('close', () => end(res.statusCode));
    this.#proxy.web(req, res, { target: `http://${route.address}:${route.port}` }, (error) => {
      this.#log.warn(
        { instance: route.instanceId, error: error.message },
        'gateway: the instance did not answer',
      );
      send(res, {
        status: 502,
        code: 'bad_gateway',
        message: `the tenant's instance did not answer (${(error as NodeJS.ErrnoException).code ?? error.message})`,
      });
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const gone = new AbortController();
    socket.on('close', () => gone.abort());
    const admitted = await this.#admit(req, gone.signal, undefined);
    if (admitted === undefined) return;
    if ('answer' in admitted) {
      if (admitted.workload !== undefined) this.counts.refused(admitted.workload, admitted.answer.status);
      sendOnSocket(socket, admitted.answer);
      return;
    }
    const { target, route } = admitted;
    this.#prepare(req, target, true);
    const end = this.counts.open(route.instanceId, route.workload);
    socket.on('close', () => end(101));
    this.#proxy.ws(req, socket, head, { target: `http://${route.address}:${route.port}` }, (error) => {
      this.#log.warn(
        { instance: route.instanceId, error: error.message },
        'gateway: a WebSocket to the instance failed',
      );
      socket.destroy();
    });
  }

  /** Who the request is for and where it goes; an answer when it goes nowhere; undefined when handled. */
  async #admit(
    req: IncomingMessage,
    signal: AbortSignal,
    res: ServerResponse | undefined,
  ): Promise<Admitted | undefined> {
    const parsed = parseTarget(req.url ?? '', req.rawHeaders, this.#listen?.domain ?? null, (label) =>
      this.table.owner(label),
    );
    if (!parsed.ok) {
      if (parsed.status === 'unknown') return { answer: REFUSAL };
      return {
        answer: {
          status: parsed.status,
          code: parsed.status === 400 ? 'bad_request' : 'not_found',
          message: parsed.message,
        },
      };
    }
    const { ok: _ok, ...target } = parsed;
    const workload = this.table.workload(target.workload);
    if (workload === undefined)
      return {
        answer: { status: 404, code: 'not_found', message: `no workload ${target.workload} is served here` },
      };
    const now = Date.now();
    if (target.rest === LINK_PATH || target.rest.startsWith(`${LINK_PATH}?`)) {
      const secret = new URLSearchParams(target.rest.slice(LINK_PATH.length)).get('token') ?? undefined;
      if (res === undefined || !this.table.admits(secret, target.workload, target.tenant, now))
        return { answer: REFUSAL, workload: target.workload };
      this.#redeem(res, target, secret as string);
      return undefined;
    }
    if (target.rest.startsWith(OWN_PREFIX))
      return { answer: { status: 404, code: 'not_found', message: `${OWN_PREFIX} is the gateway's own` } };
    if (workload.auth === 'token') {
      const presented = presentedLink(req.headers);
      if (!this.table.admits(presented?.secret, target.workload, target.tenant, now))
        return { answer: REFUSAL, workload: target.workload };
    }
    const route = this.table.route(target.workload, target.tenant);
    if (route !== undefined) return { target, route };
    try {
      const woken = await this.held.hold(
        { workload: target.workload, tenant: target.tenant, form: target.form, method: req.method ?? 'GET' },
        workload.wakeTimeoutMs,
        signal,
      );
      return { target, route: woken };
    } catch (error) {
      if (!(error instanceof WakeFailed)) throw error;
      if (error.status === 499) return undefined;
      return {
        workload: target.workload,
        answer: {
          status: error.status,
          code: error.code,
          message: error.message,
          ...(error.retryAfterSeconds === undefined
            ? {}
            : { headers: { 'retry-after': String(error.retryAfterSeconds) } }),
        },
      };
    }
  }

  #redeem(res: ServerResponse, target: Target, secret: string): void {
    const path = target.form === 'host' ? '/' : `${target.base}/`;
    res.writeHead(302, {
      location: path,
      'set-cookie': `${LINK_COOKIE}=${secret}; Path=${path}; HttpOnly; SameSite=Lax`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-length': '0',
    });
    res.end();
  }

  /** The request as the instance gets it: its own path, no hop-by-hop headers, no gateway credentials. */
  #prepare(req: IncomingMessage, target: Target, upgrade: boolean): void {
    req.url = target.rest;
    dropHopByHop(req.headers, { upgrade });
    dropGatewayCredentials(req.headers);
    setForwarded(req.headers, req.socket.remoteAddress, target.host);
  }
}
