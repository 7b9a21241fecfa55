/**
 * The daemon's side of the gateway: it has the socket host listen, keeps the host's table (wire.ts) equal to
 * the database (routes of claimed instances, live links, known tenants), wakes tenants the gateway asks for
 * (a claim: hit, warm or cold; concurrent asks share the claim Claims coalesces), and turns traffic reports
 * into activity for the idle release and into metrics. Every fact stays in the database; the host's copy is
 * pushed whole on each new connection and as differences after that.
 */
import type { Database } from '../db/database.ts';
import { liveLinkHashes } from '../db/gateway-links.ts';
import { listInstances } from '../db/instances.ts';
import { BoilerhouseError, PoolExhaustedError, ShuttingDownError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Activity } from '../pool/activity.ts';
import type { ClaimResult } from '../pool/claims.ts';
import type { WorkloadRegistry } from '../pool/workloads.ts';
import type { HostClient } from '../proxy/host/client.ts';
import type { HostConnection } from '../proxy/host/connection.ts';
import { tenantHost } from './labels.ts';
import {
  type GatewayLink,
  type GatewayListen,
  type GatewayRoute,
  type GatewayTableChange,
  type GatewayWorkload,
  routeKey,
  type TableChange,
  type TrafficReport,
  type WakeAsk,
  type WakeOutcome,
} from './wire.ts';

export interface GatewayControlOptions {
  db: Database;
  workloads: WorkloadRegistry;
  activity: Activity;
  log: Logger;
  listen: GatewayListen;
  host: () => HostClient;
  claim: (tenant: string, workload: string) => Promise<ClaimResult>;
  /** Gateway traffic to a claimed instance: holds its idle release off (when its workload counts it). */
  noteTraffic: (instanceId: string, at: number) => void;
}

interface Table {
  workloads: GatewayWorkload[];
  routes: Map<string, GatewayRoute>;
  links: Map<string, GatewayLink>;
  known: Map<string, [string, string]>;
}

/** Entries per gatewayTable request: each stays well under the protocol's frame limit. */
const CHUNK = 500;

export class GatewayControl {
  readonly #options: GatewayControlOptions;
  /** What the host connected now was given. */
  #pushed: { connection: HostConnection; table: Table } | undefined;
  #port: number | undefined;
  #syncing: Promise<void> = Promise.resolve();
  /** A sync asked for and not yet started: later asks join it. */
  #queued: Promise<void> | undefined;
  #stopped = false;

  constructor(options: GatewayControlOptions) {
    this.#options = options;
  }

  /** The gateway's base URL once it listens (`http://host:port`). */
  get url(): string | undefined {
    if (this.#port === undefined) return undefined;
    const host = this.#options.listen.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `http://${shown}:${this.#port}`;
  }

  /** A tenant's address: the host form when a domain is set, else the path form. */
  tenantUrl(workload: string, tenant: string): string | undefined {
    const base = this.url;
    if (base === undefined) return undefined;
    const host = tenantHost(workload, tenant, this.#options.listen.domain);
    if (host === undefined) return `${base}/${workload}/${tenant}`;
    return `http://${host}:${this.#port}`;
  }

  /** A new control connection (the host started, or another daemon's was taken over): everything again. */
  async onConnected(connection: HostConnection): Promise<void> {
    if (this.#stopped || this.#desired().workloads.length === 0) return;
    const { port } = await connection.request('gateway', { listen: this.#options.listen });
    this.#port = port;
    await this.#push(connection, undefined);
  }

  /** Brings the host's table up to date with the database; one at a time, asks meanwhile share the next. */
  sync(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const run = this.#syncing.then(() => {
      this.#queued = undefined;
      return this.#syncOnce();
    });
    this.#queued = run;
    this.#syncing = run.catch((error: Error) =>
      this.#options.log.warn({ error: error.message }, 'gateway: could not update the socket host'),
    );
    return run;
  }

  stop(): void {
    this.#stopped = true;
  }

  onMessage(message: WakeAsk | TrafficReport): void {
    if (message.type === 'wake') void this.#wake(message);
    else this.#traffic(message);
  }

  async #syncOnce(): Promise<void> {
    if (this.#stopped) return;
    if (this.#desired().workloads.length === 0 && this.#pushed === undefined) return;
    const connection = await this.#options.host().connection();
    if (this.#pushed?.connection !== connection) {
      // onConnected ran before a gateway workload existed: set the gateway up now.
      const { port } = await connection.request('gateway', { listen: this.#options.listen });
      this.#port = port;
      await this.#push(connection, undefined);
      return;
    }
    await this.#push(connection, this.#pushed.table);
  }

  async #push(connection: HostConnection, before: Table | undefined): Promise<void> {
    const table = this.#desired();
    const changes: GatewayTableChange[] = [];
    const sameWorkloads =
      before !== undefined && JSON.stringify(before.workloads) === JSON.stringify(table.workloads);
    if (!sameWorkloads) changes.push({ workloads: table.workloads });
    for (const kind of ['routes', 'links', 'known'] as const) {
      const diff = difference(before?.[kind], table[kind] as Map<string, unknown>);
      for (const change of chunks(diff, before === undefined)) changes.push({ [kind]: change });
    }
    for (const change of changes) await connection.request('gatewayTable', { change });
    this.#pushed = { connection, table };
  }

  #desired(): Table {
    const { db, workloads } = this.#options;
    const served = new Map(
      workloads
        .list()
        .filter((workload) => !workload.removed && workload.spec.gateway !== undefined)
        .map((workload) => [workload.id, workload.spec.gateway as NonNullable<typeof workload.spec.gateway>]),
    );
    const table: Table = {
      workloads: [...served].map(([id, gateway]) => ({
        id,
        auth: gateway.auth,
        wakeTimeoutMs: gateway.wakeTimeout,
      })),
      routes: new Map(),
      links: new Map(),
      known: new Map(),
    };
    for (const instance of listInstances(db)) {
      const gateway = served.get(instance.workload);
      if (gateway === undefined || instance.tenant === null) continue;
      const key = routeKey(instance.workload, instance.tenant);
      table.known.set(key, [instance.workload, instance.tenant]);
      if (instance.phase !== 'claimed' || instance.address === null) continue;
      table.routes.set(key, {
        workload: instance.workload,
        tenant: instance.tenant,
        instanceId: instance.id,
        address: instance.address,
        port: gateway.port,
      });
    }
    for (const link of liveLinkHashes(db, Date.now())) {
      if (!served.has(link.workload)) continue;
      table.links.set(link.hash, {
        hash: link.hash,
        workload: link.workload,
        tenant: link.tenant,
        expiresAt: link.expiresAt,
      });
    }
    return table;
  }

  async #wake(ask: WakeAsk): Promise<void> {
    const { log, activity } = this.#options;
    let outcome: WakeOutcome;
    try {
      const result = await this.#options.claim(ask.tenant, ask.workload);
      await this.sync();
      const latencyMs = Date.now() - ask.since;
      activity.record({
        type: 'tenant.woken',
        workload: ask.workload,
        tenant: ask.tenant,
        instance: result.instance.id,
        message: `tenant ${ask.tenant} woken by a request (${result.path}, ${latencyMs} ms)`,
        data: {
          trigger: 'request',
          path: result.path,
          request: `${ask.method} ${ask.form === 'path' ? '/{workload}/{tenant}/*' : '{tenant host}/*'}`,
          latencyMs,
          claimMs: result.timingsMs.total,
        },
      });
      outcome = { workload: ask.workload, tenant: ask.tenant, ok: true };
    } catch (error) {
      // A daemon on its way out leaves the wake to the next one: the host asks it again.
      if (error instanceof ShuttingDownError) return;
      const known = error instanceof BoilerhouseError;
      log.warn(
        { workload: ask.workload, tenant: ask.tenant, error: (error as Error).message },
        'gateway: wake failed',
      );
      activity.signals.emit({ type: 'gateway.wake_failed', workload: ask.workload });
      outcome = {
        workload: ask.workload,
        tenant: ask.tenant,
        ok: false,
        // A wake that fails is a 5xx whatever the cause, so that a webhook's sender tries again.
        status: known && error.status >= 500 ? error.status : 502,
        code: known ? error.code : 'wake_failed',
        message: known ? error.message : "the tenant's instance could not be started",
        ...(error instanceof PoolExhaustedError ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
      };
    }
    try {
      await this.#options.host().request('wakeDone', { outcome });
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'gateway: could not tell the socket host a wake ended');
    }
  }

  #traffic(report: TrafficReport): void {
    const now = Date.now();
    const { workloads, activity, noteTraffic } = this.#options;
    for (const entry of report.instances) {
      const counts = workloads.get(entry.workload)?.spec.gateway?.activity ?? false;
      if (counts && (entry.requests > 0 || entry.open > 0)) noteTraffic(entry.instanceId, now);
      for (const [status, count] of Object.entries(entry.statuses))
        activity.signals.emit({ type: 'gateway.answered', workload: entry.workload, status, count });
    }
    for (const { workload, status, count } of report.refused)
      activity.signals.emit({ type: 'gateway.answered', workload, status, count });
  }
}

function difference<T>(before: Map<string, T> | undefined, after: Map<string, T>): TableChange<T> {
  if (before === undefined) return { reset: true, set: [...after.values()], remove: [] };
  const set = [...after].filter(([key, value]) => JSON.stringify(before.get(key)) !== JSON.stringify(value));
  const remove = [...before.keys()].filter((key) => !after.has(key));
  return { reset: false, set: set.map(([, value]) => value), remove };
}

/** The change in requests of at most CHUNK entries; a reset always sends one, even empty. */
function chunks<T>(change: TableChange<T>, reset: boolean): TableChange<T>[] {
  const out: TableChange<T>[] = [];
  for (let i = 0; i < change.set.length || i < change.remove.length; i += CHUNK) {
    out.push({
      reset: reset && i === 0,
      set: change.set.slice(i, i + CHUNK),
      remove: change.remove.slice(i, i + CHUNK),
    });
  }
  if (reset && out.length === 0) out.push({ reset: true, set: [], remove: [] });
  return out;
}
