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
import type { GatewayListen, GatewayRoute, GatewayWorkload, WakeAsk } from './wire.ts';

/** Reserved under every tenant's address: the gateway's own paths. */
const OWN_PREFIX = '/_boilerhouse/';
const LINK_PATH = '/_boilerhouse/link';

export interface GatewayServerOptions {
  log: Logger;
  /** Sends a wake request to the daemon connected now (none: it is sent when one connects). */
  ask: (ask: WakeAsk) => void;
}

type Admitted = { target: Target; route: GatewayRoute } | { answer: Answer; workload?: string };
/** A request for a tenant with no route: held until the tenant is woken. */
type Wake = { target: Target; wake: GatewayWorkload };

export class GatewayServer {
  readonly table = new GatewayTable();
  readonly held: HeldRequests;
  readonly counts = new TrafficCounts();
  readonly #log: Logger;
  /** Keep-alive connections to instances, shared by every tenant (each instance is its own host:port). */
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  // toProxy: the path goes on as the caller sent it (parseTarget checked it) instead of being parsed and
  // re-serialised as a URL on every request.
  readonly #proxy = createProxyServer({
    agent: this.#agent,
    ws: true,
    xfwd: false,
    changeOrigin: false,
    toProxy: true,
    prependPath: false,
  });
  /** Each route's target, parsed once (a new route from the table is a new object). */
  readonly #targets = new WeakMap<GatewayRoute, URL>();
  /**
   * Sockets handed over by an upgrade (held or tunnelled): the HTTP server no longer tracks them, so
   * `closeAllConnections` would leave them open and `close` would wait on them for ever.
   */
  readonly #upgraded = new Set<Duplex>();
  #server: Server | undefined;
  #listen: GatewayListen | undefined;
  #port = 0;

  constructor(options: GatewayServerOptions) {
    this.#log = options.log;
    this.held = new HeldRequests(options.ask);
    this.table.onRoute = (key, route) => this.held.routed(key, route);
    // What the instance answers loses its hop-by-hop headers too.
    this.#proxy.on('proxyRes', (proxyRes, _req, res) => {
      dropHopByHop(proxyRes.headers, { upgrade: false });
      // An instance gone mid-answer (killed, or released and removed): the caller's side ends too, so that
      // a stream (a chat page's SSE) reconnects, and wakes the tenant, instead of waiting silently.
      proxyRes.once('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
    });
    // A WebSocket ends as a whole. http-proxy-3 passes a half-close on (the caller's FIN ends the socket to
    // the instance), and an instance that never closes its side would hold both sockets open for ever.
    this.#proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
      proxyReq.once('upgrade', (_res, upstream: Duplex) => {
        socket.once('end', () => socket.end());
        upstream.once('end', () => upstream.end());
        socket.once('close', () => upstream.destroy());
        upstream.once('close', () => socket.destroy());
      });
    });
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
    server.on('request', (req, res) => this.#request(req, res));
    server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
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
    for (const socket of this.#upgraded) socket.destroy();
    await closed;
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const admitted = this.#admit(req, res);
    if (admitted === undefined) return;
    if ('wake' in admitted) {
      // Only a held request needs to know that its caller hung up (an abort costs more than the rest).
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      void this.#woken(req, admitted, gone.signal).then((woken) => {
        if (woken !== undefined) this.#forward(req, res, woken);
      });
      return;
    }
    this.#forward(req, res, admitted);
  }

  #forward(req: IncomingMessage, res: ServerResponse, admitted: Admitted): void {
    if ('answer' in admitted) {
      if (admitted.workload !== undefined) this.counts.refused(admitted.workload, admitted.answer.status);
      send(res, admitted.answer);
      return;
    }
    const { target, route } = admitted;
    this.#prepare(req, target, false);
    const end = this.counts.open(route.instanceId, route.workload);
    res.once('close', () => end(res.statusCode));
    this.#proxy.web(req, res, { target: this.#targetOf(route) }, (error) => {
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

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.#upgraded.add(socket);
    socket.once('close', () => this.#upgraded.delete(socket));
    const admitted = this.#admit(req, undefined);
    if (admitted === undefined) return;
    if ('wake' in admitted) {
      const gone = new AbortController();
      socket.once('close', () => gone.abort());
      void this.#woken(req, admitted, gone.signal).then((woken) => {
        if (woken !== undefined) this.#tunnel(req, socket, head, woken);
      });
      return;
    }
    this.#tunnel(req, socket, head, admitted);
  }

  #tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, admitted: Admitted): void {
    if ('answer' in admitted) {
      if (admitted.workload !== undefined) this.counts.refused(admitted.workload, admitted.answer.status);
      sendOnSocket(socket, admitted.answer);
      return;
    }
    const { target, route } = admitted;
    this.#prepare(req, target, true);
    const end = this.counts.open(route.instanceId, route.workload);
    socket.once('close', () => end(101));
    this.#proxy.ws(req, socket, head, { target: this.#targetOf(route) }, (error) => {
      this.#log.warn(
        { instance: route.instanceId, error: error.message },
        'gateway: a WebSocket to the instance failed',
      );
      socket.destroy();
    });
  }

  /**
   * Who the request is for and where it goes, decided without waiting: a route, an answer, or a tenant to
   * wake first (`#woken`); undefined when it was handled here.
   */
  #admit(req: IncomingMessage, res: ServerResponse | undefined): Admitted | Wake | undefined {
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
    return { target, wake: workload };
  }

  /** Holds the request while its tenant wakes; undefined when the caller hung up meanwhile. */
  async #woken(
    req: IncomingMessage,
    { target, wake }: Wake,
    signal: AbortSignal,
  ): Promise<Admitted | undefined> {
    try {
      const route = await this.held.hold(
        { workload: target.workload, tenant: target.tenant, form: target.form, method: req.method ?? 'GET' },
        wake.wakeTimeoutMs,
        signal,
      );
      return { target, route };
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

  /** The instance's address as http-proxy-3 takes it, parsed once per route rather than per request. */
  #targetOf(route: GatewayRoute): URL {
    let target = this.#targets.get(route);
    if (target === undefined) {
      target = new URL(
        `http://${route.address.includes(':') ? `[${route.address}]` : route.address}:${route.port}`,
      );
      this.#targets.set(route, target);
    }
    return target;
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
