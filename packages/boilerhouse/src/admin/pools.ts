/** The pools as an operator sees and sizes them: counts by phase and version, the fill loop's state, scale, drain. */
import { countByPhase, listInstances, PHASES } from '../db/instances.ts';
import type { PoolDeps } from '../pool/deps.ts';
import type { Filler, FillStatus } from '../pool/fill.ts';
import { type DestroyDeps, destroyInstance } from '../pool/lifecycle.ts';
import type { PoolSize } from '../pool/pool-overrides.ts';
import { workloadById } from '../pool/workload-lookup.ts';
import type { Workload } from '../pool/workloads.ts';

export interface PoolStatus {
  workload: string;
  version: string;
  file: string;
  removed: boolean;
  minIdle: number;
  maxSize: number;
  /** The sizes an operator set through the API (scale, drain), over the file's. */
  scaled: PoolSize;
  instances: ReturnType<typeof countByPhase>;
  /** Of those, the ones made from an older version of the workload (pool/upgrades.ts moves them). */
  oldVersion: ReturnType<typeof countByPhase>;
  fill: FillStatus;
}

/** Drain destroys the ready instances; shutdown waits for each. */
type PoolAdminDeps = Pick<PoolDeps, 'db' | 'workloads' | 'track'> & DestroyDeps;

export class PoolAdmin {
  readonly #deps: PoolAdminDeps;
  readonly #filler: Pick<Filler, 'status'>;

  constructor(deps: PoolAdminDeps, filler: Pick<Filler, 'status'>) {
    this.#deps = deps;
    this.#filler = filler;
  }

  pools(): PoolStatus[] {
    return this.#deps.workloads.list().map((workload) => this.#status(workload));
  }

  pool(workloadId: string): PoolStatus {
    return this.#status(workloadById(this.#deps.workloads, workloadId, { includeRemoved: true }));
  }

  /** Sets (null: clears) the pool's sizes over the workload file's; the fill loop acts on them at once. */
  scale(workloadId: string, changes: { minIdle?: number | null; maxSize?: number | null }): PoolStatus {
    const { workloads } = this.#deps;
    const workload = workloads.scale(workloadById(workloads, workloadId).id, changes, Date.now());
    return this.#status(workload);
  }

  /**
   * Stops keeping instances warm (min_idle 0 until scaled again) and destroys the ready ones. Tenants'
   * instances are left to their tenancy.
   */
  async drain(workloadId: string): Promise<PoolStatus> {
    const { workloads } = this.#deps;
    const workload = workloads.scale(workloadById(workloads, workloadId).id, { minIdle: 0 }, Date.now());
    const ready = listInstances(this.#deps.db, { workload: workload.id, phase: 'ready' });
    await Promise.all(
      ready.map((instance) =>
        this.#deps.track(destroyInstance(this.#deps, instance, 'ready', 'pool drained by an operator')),
      ),
    );
    return this.#status(workload);
  }

  #status(workload: Workload): PoolStatus {
    const instances = countByPhase(this.#deps.db, workload.id);
    const current = countByPhase(this.#deps.db, workload.id, workload.hash);
    return {
      workload: workload.id,
      version: workload.hash,
      file: workload.file,
      removed: workload.removed,
      minIdle: workload.spec.pool.minIdle,
      maxSize: workload.spec.pool.maxSize,
      scaled: workload.scaled,
      instances,
      oldVersion: Object.fromEntries(
        PHASES.map((phase) => [phase, instances[phase] - current[phase]]),
      ) as PoolStatus['oldVersion'],
      fill: this.#filler.status(workload.id),
    };
  }
}
