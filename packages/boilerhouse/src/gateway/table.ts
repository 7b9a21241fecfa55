/**
 * The gateway's copy of what the daemon knows (wire.ts): gateway workloads, routes to running instances,
 * access links by hash, and the tenants whose host-form labels resolve. Changed only by the daemon's
 * `gatewayTable` requests; read by every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hostLabel } from './labels.ts';
import {
  type GatewayLink,
  type GatewayRoute,
  type GatewayTableChange,
  type GatewayWorkload,
  routeKey,
  type TableChange,
} from './wire.ts';

export class GatewayTable {
  readonly #workloads = new Map<string, GatewayWorkload>();
  readonly #routes = new Map<string, GatewayRoute>();
  readonly #links = new Map<string, GatewayLink>();
  readonly #known = new Map<string, [string, string]>();
  /** Host-form label -> (workload, tenant), for every pair with a route, a link or an instance. */
  readonly #labels = new Map<string, { workload: string; tenant: string }>();
  /** Called with the key of each route that was set, so held requests go on. */
  onRoute: (key: string, route: GatewayRoute) => void = () => undefined;

  apply(change: GatewayTableChange): void {
    if (change.workloads !== undefined) {
      this.#workloads.clear();
      for (const workload of change.workloads) this.#workloads.set(workload.id, workload);
    }
    const set: GatewayRoute[] = [];
    if (change.routes)
      applyTo(this.#routes, change.routes, (route) => routeKey(route.workload, route.tenant));
    if (change.routes) set.push(...change.routes.set);
    if (change.links) applyTo(this.#links, change.links, (link) => link.hash);
    if (change.known) applyTo(this.#known, change.known, ([workload, tenant]) => routeKey(workload, tenant));
    if (change.routes || change.links || change.known) this.#relabel();
    for (const route of set) this.onRoute(routeKey(route.workload, route.tenant), route);
  }

  workload(id: string): GatewayWorkload | undefined {
    return this.#workloads.get(id);
  }

  route(workload: string, tenant: string): GatewayRoute | undefined {
    return this.#routes.get(routeKey(workload, tenant));
  }

  get routeCount(): number {
    return this.#routes.size;
  }

  owner(label: string): { workload: string; tenant: string } | undefined {
    return this.#labels.get(label);
  }

  /**
   * Whether `secret` is a live link of exactly this tenant and workload. The same work is done for every
   * caller (one hash, one lookup, one constant-time compare), whether the tenant exists or not.
   */
  admits(secret: string | undefined, workload: string, tenant: string, now: number): boolean {
    const hash = createHash('sha256')
      .update(secret ?? '')
      .digest('hex');
    const link = this.#links.get(hash);
    const expected = Buffer.from(routeKey(workload, tenant));
    const actual = Buffer.from(link === undefined ? '' : routeKey(link.workload, link.tenant));
    const same = actual.length === expected.length && timingSafeEqual(actual, expected);
    return secret !== undefined && same && (link?.expiresAt == null || link.expiresAt > now);
  }

  #relabel(): void {
    this.#labels.clear();
    const add = (workload: string, tenant: string) =>
      this.#labels.set(hostLabel(workload, tenant), { workload, tenant });
    for (const route of this.#routes.values()) add(route.workload, route.tenant);
    for (const link of this.#links.values()) add(link.workload, link.tenant);
    for (const [workload, tenant] of this.#known.values()) add(workload, tenant);
  }
}

function applyTo<T>(map: Map<string, T>, change: TableChange<T>, keyOf: (entry: T) => string): void {
  if (change.reset) map.clear();
  for (const key of change.remove) map.delete(key);
  for (const entry of change.set) map.set(keyOf(entry), entry);
}
