/** Instances as an operator handles them one by one: listed, their container output read, destroyed. */
import { getInstance, type Instance, listInstances, type Phase } from '../db/instances.ts';
import { removeResume } from '../db/resumes.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { PoolDeps } from '../pool/deps.ts';
import { type DestroyDeps, destroyInstance } from '../pool/lifecycle.ts';
import type { TenantState } from '../pool/tenant-state.ts';

/** Phases in which an instance holds a tenant's state that a destroy must save first. */
const TENANT_PHASES: ReadonlySet<string> = new Set(['claimed', 'reserved', 'release_failed', 'failed']);
/** A destroy whose instance changes phase under it (a reservation claiming itself back) looks again. */
const DESTROY_ATTEMPTS = 3;

type InstanceAdminDeps = Pick<PoolDeps, 'db' | 'runtime' | 'track'> & DestroyDeps;

export class InstanceAdmin {
  readonly #deps: InstanceAdminDeps;
  readonly #state: Pick<TenantState, 'beforeDestroy'>;

  constructor(deps: InstanceAdminDeps, state: Pick<TenantState, 'beforeDestroy'>) {
    this.#deps = deps;
    this.#state = state;
  }

  list(filter: { workload?: string; phase?: Phase } = {}): Instance[] {
    return listInstances(this.#deps.db, filter);
  }

  /** The container output of an instance: the last `tail` lines, then (with `follow`) what comes. */
  async logs(
    id: string,
    options: { tail: number; follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<Buffer>> {
    const instance = getInstance(this.#deps.db, id);
    if (instance === undefined) throw new NotFoundError(`no instance ${id}`);
    if (instance.containerId === null) throw new ConflictError(`instance ${id} has no container yet`);
    return this.#deps.runtime.logs(instance.containerId, options);
  }

  /**
   * Destroys an instance on an operator's request, whatever its phase. A tenant's instance (claimed,
   * reserved, failed, or with a failed release) is saved first, and stays when that save fails; `discard`
   * skips the save, and the event says so. A claimed tenant loses its instance (its next claim restores
   * the save) and is not claimed again by itself, even if its container had died.
   */
  async destroy(id: string, options: { discard?: boolean } = {}): Promise<void> {
    const { db, track } = this.#deps;
    for (let attempt = 0; attempt < DESTROY_ATTEMPTS; attempt++) {
      const instance = getInstance(db, id);
      if (instance === undefined) throw new NotFoundError(`no instance ${id}`);
      if (instance.tenant !== null) removeResume(db, instance.workload, instance.tenant);
      const holdsState = instance.tenant !== null && TENANT_PHASES.has(instance.phase);
      if (holdsState && !options.discard) await this.#state.beforeDestroy(instance);
      const reason =
        holdsState && options.discard
          ? 'destroyed by an operator, unsaved changes discarded (discard=true)'
          : 'destroyed by an operator';
      if (await track(destroyInstance(this.#deps, instance, instance.phase, reason))) return;
      // Its phase moved meanwhile (a reservation that wrote claimed itself back during the save): again.
    }
    throw new ConflictError(`instance ${id} kept changing while it was being destroyed; try again`);
  }
}
