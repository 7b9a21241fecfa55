/**
 * What the daemon tells the socket host's gateway (proxy/host/protocol.ts carries it), and what the gateway
 * reports back. The daemon owns every fact; the gateway keeps a copy in memory to serve while the daemon
 * restarts, and is given all of it again (`reset`) on each new control connection.
 */
import type { GatewayForm } from './target.ts';

export interface GatewayListen {
  host: string;
  /** 0: any free port (tests); the reply says which. */
  port: number;
  /** Host-form requests are `<label>.<domain>`; null: only the path form. */
  domain: string | null;
}

/** A workload's `gateway:` block as the door needs it. */
export interface GatewayWorkload {
  id: string;
  auth: 'token' | 'none';
  wakeTimeoutMs: number;
}

/** A running instance a tenant's traffic goes to: on the instance's own network. */
export interface GatewayRoute {
  workload: string;
  tenant: string;
  instanceId: string;
  address: string;
  port: number;
}

/** An access link: the SHA-256 (hex) of its secret, never the secret. */
export interface GatewayLink {
  hash: string;
  workload: string;
  tenant: string;
  /** ms since the epoch; null: never. */
  expiresAt: number | null;
}

/** Entries to put and keys to drop; `reset` first forgets every entry of the kind. */
export interface TableChange<T> {
  reset: boolean;
  set: T[];
  remove: string[];
}

export interface GatewayTableChange {
  /** Every gateway workload (the list is short): replaces the last one. */
  workloads?: GatewayWorkload[];
  /** Keyed by routeKey(workload, tenant). */
  routes?: TableChange<GatewayRoute>;
  /** Keyed by hash. */
  links?: TableChange<GatewayLink>;
  /** (workload, tenant) pairs whose host-form label the gateway can resolve, keyed by routeKey. */
  known?: TableChange<[string, string]>;
}

/** Whether a wake the gateway asked for came true; `ok` is sent once its route is in the table. */
export type WakeOutcome =
  | { workload: string; tenant: string; ok: true }
  | {
      workload: string;
      tenant: string;
      ok: false;
      status: number;
      code: string;
      message: string;
      retryAfterSeconds?: number;
    };

/** gateway -> daemon: a request came for a tenant with no route. */
export interface WakeAsk {
  type: 'wake';
  workload: string;
  tenant: string;
  form: GatewayForm;
  method: string;
  /** When the first request of this wake came (ms since the epoch). */
  since: number;
}

/** What one instance's tenants did through the gateway since the last report. */
export interface InstanceTraffic {
  instanceId: string;
  workload: string;
  requests: number;
  /** Requests, streams and WebSockets open at the time of the report. */
  open: number;
  /** Answers by status class ("2xx", "5xx", ...). */
  statuses: Record<string, number>;
}

/** gateway -> daemon, about once a second while there is traffic. */
export interface TrafficReport {
  type: 'traffic';
  instances: InstanceTraffic[];
  /** Answers the gateway gave itself (refusals, 502, 503, 504), by workload and status class. */
  refused: { workload: string; status: string; count: number }[];
}

export function routeKey(workload: string, tenant: string): string {
  return `${workload}\0${tenant}`;
}
