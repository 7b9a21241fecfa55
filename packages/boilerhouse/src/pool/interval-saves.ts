/**
 * `sync.policy.interval`: while an instance is claimed, its state is saved every interval; a save finds
 * nothing changed and skips cheaply when the tenant wrote nothing.
 */
import type { Database } from '../db/database.ts';
import { listInstances } from '../db/instances.ts';
import type { Logger } from '../log.ts';
import type { SyncedTenantState } from './synced-tenant-state.ts';
import type { WorkloadRegistry } from './workloads.ts';

export class IntervalSaves {
  readonly #db: Database;
  readonly #workloads: WorkloadRegistry;
  readonly #state: SyncedTenantState;
  readonly #log: Logger;
  /** Runtime-only: when each claimed instance was last saved (or claimed). */
  readonly #lastSaveAt = new Map<string, number>();

  constructor(options: { db: Database; workloads: WorkloadRegistry; state: SyncedTenantState; log: Logger }) {
    this.#db = options.db;
    this.#workloads = options.workloads;
    this.#state = options.state;
    this.#log = options.log;
  }

  async tick(now: number): Promise<void> {
    const claimed = listInstances(this.#db, { phase: 'claimed' });
    const ids = new Set(claimed.map((instance) => instance.id));
    for (const id of this.#lastSaveAt.keys()) if (!ids.has(id)) this.#lastSaveAt.delete(id);
    for (const instance of claimed) {
      const workload = this.#workloads.get(instance.workload);
      const interval = workload?.spec.sync?.policy.interval;
      if (workload === undefined || interval === undefined) continue;
      const last = this.#lastSaveAt.get(instance.id) ?? instance.claimedAt ?? now;
      this.#lastSaveAt.set(instance.id, last);
      if (now - last < interval) continue;
      this.#lastSaveAt.set(instance.id, now);
      await this.#state
        .saveNow(instance, workload, 'interval')
        .catch((error: Error) => this.#log.warn({ instance: instance.id, error }, 'interval save failed'));
    }
  }
}
