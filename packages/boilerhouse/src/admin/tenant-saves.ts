/** A tenant's saves as an operator handles them: listed, an older one made current, one taken now. */
import { listTenantInstances } from '../db/instances.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import type { PoolDeps } from '../pool/deps.ts';
import { type DestroyDeps, destroyInstance } from '../pool/lifecycle.ts';
import type { SyncedTenantState } from '../pool/synced-tenant-state.ts';
import { workloadById } from '../pool/workload-lookup.ts';
import type { Workload } from '../pool/workloads.ts';
import type { SaveSummary } from '../state/manifest.ts';
import type { DamagedSave, SaveResult } from '../state/snapshots.ts';
import { parseTenantId } from '../tenant.ts';

/** A restore destroys the tenant's reserved instance first; shutdown waits for it. */
type TenantSavesAdminDeps = Pick<PoolDeps, 'db' | 'workloads' | 'track'> & DestroyDeps;

export class TenantSavesAdmin {
  readonly #deps: TenantSavesAdminDeps;
  readonly #state: SyncedTenantState;

  constructor(deps: TenantSavesAdminDeps, state: SyncedTenantState) {
    this.#deps = deps;
    this.#state = state;
  }

  /**
   * The tenant's saves of a workload, newest first, which one is current, and those that cannot be read
   * (a torn or missing manifest, a damaged HEAD), kept for an operator to look at.
   */
  async snapshots(
    tenant: string,
    workloadId: string,
  ): Promise<{ head: number | null; saves: SaveSummary[]; damaged: DamagedSave[] }> {
    const workload = workloadById(this.#deps.workloads, workloadId, { includeRemoved: true });
    const { head, saves, damaged } = await this.#store(workload, parseTenantId(tenant)).overview();
    return { head: head ?? null, saves, damaged };
  }

  /**
   * Makes an older save the tenant's current one, while the tenant is released: its reserved instance (if
   * any) is saved and destroyed first, so the next claim restores the chosen save.
   */
  async restoreSnapshot(tenant: string, workloadId: string, seq: number): Promise<{ head: number }> {
    const workload = workloadById(this.#deps.workloads, workloadId, { includeRemoved: true });
    const id = parseTenantId(tenant);
    const store = this.#store(workload, id);
    const saves = await store.list();
    if (!saves.some((save) => save.seq === seq)) {
      throw new NotFoundError(
        `tenant ${id} has no save ${seq} of ${workload.id}; it has ${saves.map((save) => save.seq).join(', ') || 'none'}`,
      );
    }
    const own = listTenantInstances(this.#deps.db, id).find((instance) => instance.workload === workload.id);
    if (own !== undefined && own.phase !== 'reserved') {
      throw new ConflictError(
        `tenant ${id} has a ${own.phase} instance of ${workload.id}; release it before restoring a save`,
      );
    }
    if (own !== undefined) {
      await this.#state.beforeDestroy(own);
      await this.#deps.track(destroyInstance(this.#deps, own, 'reserved', `tenant restores save ${seq}`));
    }
    return { head: await store.rollBack(seq) };
  }

  /** `manual` sync: saves the tenant's instance now (upload). */
  async sync(tenant: string, workloadId: string, direction: string): Promise<SaveResult | undefined> {
    const workload = workloadById(this.#deps.workloads, workloadId);
    const id = parseTenantId(tenant);
    if (!workload.spec.sync?.policy.manual) {
      throw new ConflictError(`manual sync is off for ${workload.id} (sync.policy.manual)`);
    }
    if (direction === 'download') {
      throw new BadRequestError(
        'direction "download" is not available on a running instance: state is restored at claim; to go back to an older save, release and POST .../snapshots/{seq}/restore',
      );
    }
    if (direction !== 'upload')
      throw new BadRequestError(
        `field "direction" must be "upload" or "download", got ${JSON.stringify(direction)}`,
      );
    const own = listTenantInstances(this.#deps.db, id).find((instance) => instance.workload === workload.id);
    if (own === undefined || (own.phase !== 'claimed' && own.phase !== 'reserved')) {
      throw new NotFoundError(`tenant ${id} has no running instance of ${workload.id} to save`);
    }
    return this.#state.saveNow(own, workload, 'manual');
  }

  #store(workload: Workload, tenant: string) {
    if (workload.spec.sync === undefined)
      throw new NotFoundError(`workload ${workload.id} keeps no tenant state`);
    return this.#state.store(workload, tenant);
  }
}
