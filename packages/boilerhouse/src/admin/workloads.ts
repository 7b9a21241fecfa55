/** Workload files as an operator handles them through the API: checked, written and loaded, deleted. */
import { basename } from 'node:path';
import { loadWorkload, type Problem, type WorkloadEnvironment } from '@boilerhouse/spec';
import { listInstances } from '../db/instances.ts';
import { ConflictError } from '../errors.ts';
import type { PoolDeps } from '../pool/deps.ts';
import { type DestroyDeps, destroyInstance } from '../pool/lifecycle.ts';
import { missingImages } from '../pool/missing-images.ts';
import type { TenantState } from '../pool/tenant-state.ts';
import { workloadById } from '../pool/workload-lookup.ts';
import type { AppliedWorkload } from '../pool/workloads.ts';
import type { PoolAdmin } from './pools.ts';

export interface WorkloadAdminDeps {
  /** A deletion destroys the workload's reserved instances (shutdown waits for each); apply checks its images. */
  pool: Pick<PoolDeps, 'db' | 'workloads' | 'runtime' | 'track'> & DestroyDeps;
  /** The one view of the environment workload files (and their sink credentials) are given. */
  env: WorkloadEnvironment;
  state: Pick<TenantState, 'beforeDestroy'>;
  pools: Pick<PoolAdmin, 'drain'>;
  /** A tenant's release, as the API's (saved as any release is). */
  release: (tenant: string, workload: string, why: string) => Promise<unknown>;
  /** Throws ShuttingDownError once the daemon is stopping: no file is written or deleted then. */
  refuseWhenStopping: () => void;
}

export class WorkloadAdmin {
  readonly #deps: WorkloadAdminDeps;

  constructor(deps: WorkloadAdminDeps) {
    this.#deps = deps;
  }

  /** What validation says of a workload file's text, in the environment the registry loads files with. */
  check(text: string, file: string): Problem[] {
    return loadWorkload(text, { file, env: this.#deps.env }).problems;
  }

  /**
   * Writes a workload file (validated as files are, its sink tried) and loads it; warns of what validation
   * warns of and of images that are not on this host.
   */
  async apply(id: string, text: string): Promise<AppliedWorkload> {
    this.#deps.refuseWhenStopping();
    const applied = await this.#deps.pool.workloads.apply(id, text);
    const name = basename(applied.workload.file);
    const images = await missingImages(this.#deps.pool.runtime, applied.workload.spec);
    const warnings = images.map(({ field, message }) => ({ path: `${name} ${field}`, message }));
    return { ...applied, warnings: [...applied.warnings, ...warnings] };
  }

  /**
   * Drains the pool, then deletes the workload's file. Tenants holding instances refuse it (409) unless
   * `force`, which releases them first, saving their state as any release does.
   */
  async delete(id: string, options: { force: boolean }): Promise<void> {
    this.#deps.refuseWhenStopping();
    const { pool: deps, state } = this.#deps;
    const workload = workloadById(deps.workloads, id);
    const held = listInstances(deps.db, { workload: workload.id }).filter(
      (instance) => instance.tenant !== null && instance.phase !== 'reserved',
    );
    if (held.length > 0 && !options.force) {
      const tenants = [...new Set(held.map((instance) => instance.tenant))].join(', ');
      throw new ConflictError(
        `${held.length} instance(s) of ${workload.id} are held by tenants (${tenants}); release them or delete with ?force=true`,
      );
    }
    await this.#deps.pools.drain(workload.id);
    for (const instance of held) {
      await this.#deps.release(instance.tenant as string, workload.id, 'its workload is deleted');
    }
    for (const instance of listInstances(deps.db, { workload: workload.id, phase: 'reserved' })) {
      await state.beforeDestroy(instance);
      await deps.track(destroyInstance(deps, instance, 'reserved', `workload ${workload.id} deleted`));
    }
    await deps.workloads.remove(workload.id);
  }
}
