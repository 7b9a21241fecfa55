/**
 * The daemon's hold on its socket host: one control connection, made on first use (a running host is
 * found, or one is started). When the connection drops and the daemon is not stopping, the host died:
 * another is started and `onConnected` serves every instance's socket again there, with back-off between
 * attempts and a count of restarts. A host of another protocol version is asked to shut down and replaced;
 * the connections it served are cut then (the one outage an upgrade can cause, documented in docs/).
 */
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import type { TrafficReport, WakeAsk } from '../../gateway/wire.ts';
import type { Logger } from '../../log.ts';
import { HostConnection, HostLostError } from './connection.ts';
import { hostPaths } from './paths.ts';
import type { Denied, Requests, RequestType } from './protocol.ts';
import { connectOrSpawn, type SpawnOptions } from './spawn.ts';

export interface HostClientOptions extends SpawnOptions {
  log: Logger;
  onDenied: (denial: Denied) => void;
  /** The gateway's wake requests and traffic reports. */
  onGateway?: (message: WakeAsk | TrafficReport) => void;
  /** Runs on each new connection before any request goes through it: sockets to serve again. */
  onConnected: (connection: HostConnection) => Promise<void>;
}

/** Restarts in a row that fail before the client stops trying by itself (the next request tries again). */
const MAX_ATTEMPTS = 6;
/** The first restart is at once (the host just died); the ones after it back off. */
const RESTART_BACKOFF: Backoff = { firstMs: 250, longestMs: 5_000, jitter: 0.2 };

export class HostClient {
  readonly #options: HostClientOptions;
  #connection: Promise<HostConnection> | undefined;
  #closing = false;
  #retry: NodeJS.Timeout | undefined;
  /** Hosts found dead and started again since this daemon started. */
  restarts = 0;

  constructor(options: HostClientOptions) {
    this.#options = options;
  }

  /** The connection, started (and the host with it) when there is none. */
  connection(): Promise<HostConnection> {
    if (this.#closing) return Promise.reject(new HostLostError('the daemon is stopping'));
    this.#connection ??= this.#connect(true).catch((error) => {
      this.#connection = undefined;
      throw error;
    });
    return this.#connection;
  }

  /** The connection when a host is running already (none is started); undefined otherwise. */
  async existing(): Promise<HostConnection | undefined> {
    if (this.#connection !== undefined) return this.#connection.catch(() => undefined);
    const attempt = this.#connect(false);
    this.#connection = attempt;
    const connection = await attempt.catch(() => undefined);
    if (connection === undefined && this.#connection === attempt) this.#connection = undefined;
    return connection;
  }

  /** A request; retried once on a new host when the connection was lost on the way (all are idempotent). */
  async request<T extends RequestType>(
    type: T,
    params: Requests[T]['params'],
  ): Promise<Requests[T]['result']> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.connection();
      try {
        return await connection.request(type, params);
      } catch (error) {
        if (!(error instanceof HostLostError) || attempt > 0) throw error;
      }
    }
  }

  /** Hangs up (daemon shutdown): the host goes on serving every socket. */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retry);
    const connection = await this.#connection?.catch(() => undefined);
    await connection?.end();
  }

  async #connect(spawn: boolean): Promise<HostConnection> {
    const control = hostPaths(this.#options.dataDir).control;
    let connection = spawn
      ? await connectOrSpawn(this.#options)
      : await HostConnection.open(control, this.#options.daemonId);
    if (!connection.sameVersion) {
      this.#options.log.warn(
        { pid: connection.hello.pid, version: connection.hello.version },
        'socket host: replacing a host of another protocol version; the connections it serves are cut',
      );
      await connection.request('shutdown', {}).catch(() => undefined);
      await connection.closed;
      connection = await connectOrSpawn(this.#options);
      if (!connection.sameVersion) throw new Error('the socket host started is of another protocol version');
    }
    connection.onDenied(this.#options.onDenied);
    if (this.#options.onGateway !== undefined) connection.onGateway(this.#options.onGateway);
    void connection.closed.then(() => this.#lost(connection));
    await this.#options.onConnected(connection);
    return connection;
  }

  async #lost(connection: HostConnection): Promise<void> {
    if (this.#closing) return;
    const current = await this.#connection?.catch(() => undefined);
    if (current !== connection) return;
    this.#connection = undefined;
    this.restarts++;
    this.#options.log.warn(
      { pid: connection.hello.pid, restarts: this.restarts },
      'socket host: lost the socket host; starting another and serving every socket there again',
    );
    this.#restart(0);
  }

  #restart(attempt: number): void {
    if (this.#closing) return;
    this.#retry = setTimeout(
      () => {
        this.connection().then(
          () => this.#options.log.info({ restarts: this.restarts }, 'socket host: serving again'),
          (error: Error) => {
            if (attempt + 1 < MAX_ATTEMPTS) return this.#restart(attempt + 1);
            this.#options.log.error(
              { error: error.message, attempts: MAX_ATTEMPTS },
              'socket host: could not start another; the next request to the sockets tries again',
            );
          },
        );
      },
      attempt === 0 ? 0 : backoffDelay(RESTART_BACKOFF, attempt),
    );
    this.#retry.unref();
  }
}
