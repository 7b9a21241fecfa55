/** Tenants as an operator sees them: who holds which instances now, where to reach them, when each wakes. */
import type { Database } from '../db/database.ts';
import { type Instance, listInstances, listTenantInstances } from '../db/instances.ts';
import { listWakes, type Wake } from '../db/wakes.ts';
import { endpointsOf } from '../pool/claims.ts';
import { parseTenantId } from '../tenant.ts';

export interface TenantStatus {
  tenant: string;
  instances: (Instance & { endpoints: ReturnType<typeof endpointsOf> })[];
  wakes: Wake[];
}

export class TenantAdmin {
  readonly #db: Database;
  readonly #publishHost: string;

  /** `publishHost`: where instances' published ports are reached (the endpoints shown). */
  constructor(db: Database, publishHost: string) {
    this.#db = db;
    this.#publishHost = publishHost;
  }

  /** One tenant's instances with their endpoints, and its upcoming wakes. */
  status(tenant: string): TenantStatus {
    const id = parseTenantId(tenant);
    const instances = listTenantInstances(this.#db, id).map((instance) => ({
      ...instance,
      endpoints: endpointsOf(instance, this.#publishHost),
    }));
    return { tenant: id, instances, wakes: listWakes(this.#db, { tenant: id }) };
  }

  /** Every tenant that has an instance now, with its instances, by tenant id. */
  list(): { tenant: string; instances: Instance[] }[] {
    const byTenant = new Map<string, Instance[]>();
    for (const instance of listInstances(this.#db)) {
      if (instance.tenant === null) continue;
      byTenant.set(instance.tenant, [...(byTenant.get(instance.tenant) ?? []), instance]);
    }
    return [...byTenant.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tenant, instances]) => ({ tenant, instances }));
  }

  /** Upcoming wakes (pool.wake) of every tenant, soonest first. */
  wakes(): Wake[] {
    return listWakes(this.#db);
  }
}
