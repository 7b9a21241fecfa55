/**
 * The socket host: serves every instance's filtered Docker socket (DockerProxy, unchanged) in a process of
 * its own, so that a daemon restart, graceful or kill -9, cuts no connection. The daemon drives it over the
 * control socket; while no daemon is connected it goes on serving, with the secret values it was last given
 * (memory only) and refusals logged. It ends by itself once it serves nothing and no daemon has been
 * connected for `idleMs`, or at once when its control socket is gone (the data directory removed).
 * It serves the gateway too (gateway/server.ts): tenants' traffic keeps flowing while the daemon restarts,
 * and requests for a tenant to wake are held until a daemon is back to wake it.
 */
import { chmod, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { GatewayServer } from '../../gateway/server.ts';
import type { Logger } from '../../log.ts';
import type { EngineClient } from '../../runtime/engine-client.ts';
import { removeInstanceChildren, removeOrphanChildren } from '../child-removal.ts';
import { DockerProxy } from '../server.ts';
import { readFrames } from './frames.ts';
import {
  type DaemonMessage,
  type Denied,
  encodeFrame,
  type HostMessage,
  type OpenSpec,
  PROTOCOL_VERSION,
  parseDaemonMessage,
  type Request,
  type SecretPairs,
} from './protocol.ts';

export interface SocketHostOptions {
  controlPath: string;
  engine: EngineClient;
  log: Logger;
  idleMs: number;
  /** How often idleness and the control socket are looked at. */
  checkMs?: number;
  /** How often the gateway's traffic is reported to the daemon. */
  trafficMs?: number;
}

interface Served {
  spec: OpenSpec;
  proxy: DockerProxy;
  secrets: ReadonlyMap<string, string>;
}

export class SocketHost {
  readonly #options: SocketHostOptions;
  readonly #log: Logger;
  readonly #served = new Map<string, Served>();
  /** Opens and closes in flight, by instance: one at a time for each. */
  readonly #busy = new Map<string, Promise<unknown>>();
  readonly #daemons = new Set<Socket>();
  /** The daemon that said hello last: where refusals are reported. */
  #current: Socket | undefined;
  #server: Server | undefined;
  #idleSince = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #trafficTimer: NodeJS.Timeout | undefined;
  readonly #gateway: GatewayServer;
  #stopping: Promise<void> | undefined;
  readonly #stopped: Promise<void>;
  #resolveStopped: () => void = () => undefined;

  constructor(options: SocketHostOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#gateway = new GatewayServer({ log: options.log, ask: (ask) => this.#toDaemon(ask) });
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
  }

  /** Resolves once the host has shut down (asked to, idle, or its directory gone). */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  async listen(): Promise<void> {
    const path = this.#options.controlPath;
    // The lock is held (lock.ts): a socket file here is a dead host's.
    await rm(path, { force: true });
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o600);
    this.#server = server;
    this.#timer = setInterval(() => void this.#check(), this.#options.checkMs ?? 1_000);
    this.#trafficTimer = setInterval(() => {
      const report = this.#gateway.counts.take();
      if (report !== undefined) this.#toDaemon(report);
    }, this.#options.trafficMs ?? 1_000);
    this.#log.info({ control: path, pid: process.pid }, 'socket host: serving');
  }

  /** Closes every socket (their connections are cut; children keep running) and stops. */
  shutdown(why: string): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info({ why, sockets: this.#served.size }, 'socket host: shutting down');
      clearInterval(this.#timer);
      clearInterval(this.#trafficTimer);
      await this.#gateway.close();
      // No new daemon from now on; those connected are let go once every socket is closed.
      const closed = new Promise<void>((resolve) =>
        this.#server ? this.#server.close(() => resolve()) : resolve(),
      );
      await Promise.allSettled([...this.#busy.values()]);
      await Promise.allSettled([...this.#served.values()].map(({ proxy }) => proxy.close()));
      this.#served.clear();
      for (const daemon of this.#daemons) daemon.end();
      await closed;
      this.#resolveStopped();
    })();
    return this.#stopping;
  }

  #accept(socket: Socket): void {
    let hello = false;
    let sameVersion = false;
    const send = (message: HostMessage) => {
      if (!socket.destroyed) socket.write(encodeFrame(message));
    };
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#daemons.delete(socket);
      if (this.#current === socket) this.#current = undefined;
      this.#idleSince = Date.now();
    });
    readFrames(
      socket,
      (value) => {
        const message: DaemonMessage = parseDaemonMessage(value);
        if (message.type === 'hello') {
          hello = true;
          this.#daemons.add(socket);
          // Another version only gets to ask for a shutdown; the hello says which version this is.
          sameVersion = message.version === PROTOCOL_VERSION;
          if (sameVersion) this.#current = socket;
          send({
            type: 'hello',
            version: PROTOCOL_VERSION,
            pid: process.pid,
            open: [...this.#served.keys()],
          });
          return;
        }
        if (!hello) throw new Error('the first frame must be a hello');
        if (!sameVersion && message.type !== 'shutdown')
          throw new Error(`request ${message.type} from a daemon of another protocol version`);
        void this.#handle(message).then(
          (result) => {
            send({ type: 'reply', id: message.id, ok: true, result: result ?? null });
            // A daemon that sets the gateway up hears the wakes still waited for (asked again after a restart).
            if (message.type === 'gateway') for (const ask of this.#gateway.held.pending()) send(ask);
          },
          (error: Error) => send({ type: 'reply', id: message.id, ok: false, error: error.message }),
        );
      },
      (error) => {
        this.#log.warn({ error: error.message }, 'socket host: refused a control frame');
        send({ type: 'error', error: error.message });
        socket.end();
      },
    );
  }

  async #handle(request: Request): Promise<unknown> {
    switch (request.type) {
      case 'open':
        return this.#one(request.spec.instanceId, () => this.#open(request.spec, request.secrets));
      case 'close':
        return this.#one(request.instanceId, () => this.#close(request.instanceId));
      case 'removeChildren': {
        const served = this.#served.get(request.instanceId);
        if (served === undefined) throw new Error(`no socket of ${request.instanceId} is served`);
        return served.proxy.removeChildren();
      }
      case 'removeOrphans': {
        const alive = new Set(request.alive);
        const gone = [...this.#served.keys()].filter((id) => !alive.has(id));
        await Promise.all(gone.map((id) => this.#one(id, () => this.#close(id, { keepChildren: true }))));
        return removeOrphanChildren(this.#options.engine, request.daemonId, alive, this.#log);
      }
      case 'secrets': {
        const served = this.#served.get(request.instanceId);
        if (served === undefined) throw new Error(`no socket of ${request.instanceId} is served`);
        served.secrets = new Map(request.secrets);
        return null;
      }
      case 'gateway':
        return this.#gateway.listen(request.listen);
      case 'gatewayTable':
        this.#gateway.table.apply(request.change);
        return null;
      case 'wakeDone': {
        const { workload, tenant } = request.outcome;
        this.#gateway.held.done(request.outcome, this.#gateway.table.route(workload, tenant));
        return null;
      }
      case 'shutdown':
        // Answered first; the connection then closes with the rest.
        setImmediate(() => void this.shutdown('asked by a daemon'));
        return null;
    }
  }

  async #open(spec: OpenSpec, secrets: SecretPairs): Promise<void> {
    const known = this.#served.get(spec.instanceId);
    if (known !== undefined) {
      known.secrets = new Map(secrets);
      return;
    }
    const entry: Partial<Served> = { spec, secrets: new Map(secrets) };
    const proxy = await DockerProxy.open({
      ...spec,
      engine: this.#options.engine,
      log: this.#log,
      tenantSecrets: async () => entry.secrets ?? new Map(),
      onDenied: (denial) => this.#report({ type: 'denied', workload: spec.workloadId, ...denial }),
    });
    entry.proxy = proxy;
    this.#served.set(spec.instanceId, entry as Served);
  }

  /** Stops serving; the instance's children (and pins) are removed unless `keepChildren`. */
  async #close(instanceId: string, options: { keepChildren?: boolean } = {}): Promise<void> {
    const served = this.#served.get(instanceId);
    this.#served.delete(instanceId);
    if (served === undefined) return;
    this.#idleSince = Date.now();
    await served.proxy.close();
    if (!options.keepChildren)
      await removeInstanceChildren(this.#options.engine, instanceId, served.spec.pinsDir);
  }

  /** Runs `work` after whatever else is in flight for the instance. */
  #one<T>(instanceId: string, work: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(instanceId) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    this.#busy.set(instanceId, settled);
    void settled.then(() => {
      if (this.#busy.get(instanceId) === settled) this.#busy.delete(instanceId);
    });
    return run;
  }

  /** To the daemon connected now; while there is none the proxy's own log line is all that is kept. */
  #report(denial: Denied): void {
    this.#toDaemon(denial);
  }

  /** To the daemon connected now, if any (a wake waits for the next one: held.ts). */
  #toDaemon(message: HostMessage): void {
    const daemon = this.#current;
    if (daemon !== undefined && !daemon.destroyed) daemon.write(encodeFrame(message));
  }

  async #check(): Promise<void> {
    if (this.#stopping !== undefined) return;
    const present = await stat(this.#options.controlPath).then(
      () => true,
      () => false,
    );
    if (!present) {
      await this.shutdown('its control socket is gone (the data directory was removed)');
      return;
    }
    const idle =
      this.#served.size === 0 &&
      this.#daemons.size === 0 &&
      this.#busy.size === 0 &&
      this.#gateway.table.routeCount === 0 &&
      this.#gateway.held.size === 0;
    if (!idle) return;
    if (Date.now() - this.#idleSince >= this.#options.idleMs)
      await this.shutdown(`it served no socket and no daemon for ${this.#options.idleMs} ms`);
  }
}
