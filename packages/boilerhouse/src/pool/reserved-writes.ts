/**
 * Whether a reserved instance has written to its state since it was reserved. The newest file time of its
 * counted state is taken when it is reserved and compared with later scans: both are file-system times, so
 * the kernel's coarse file clock cannot hide a write made just after the reservation. Runtime-only: after
 * a daemon restart the first scan of each reservation becomes its starting point.
 */
import type { Instance } from '../db/instances.ts';
import type { PoolDeps } from './deps.ts';
import { countedPaths } from './idle.ts';
import { lastWriteAt } from './state-writes.ts';

export class ReservedWrites {
  readonly #baselines = new Map<string, number>();

  /** Records the state's newest write as the instance is being reserved. */
  async mark(deps: PoolDeps, instance: Instance): Promise<void> {
    this.#baselines.set(instance.id, await this.#scan(deps, instance));
  }

  /** True when the instance wrote to its counted state since `mark` (or since it was first looked at). */
  async wrote(deps: PoolDeps, instance: Instance): Promise<boolean> {
    const newest = await this.#scan(deps, instance);
    const baseline = this.#baselines.get(instance.id);
    if (baseline === undefined) this.#baselines.set(instance.id, newest);
    return baseline !== undefined && newest > baseline;
  }

  /** Drops what is kept for instances no longer reserved. */
  keepOnly(ids: ReadonlySet<string>): void {
    for (const id of this.#baselines.keys()) if (!ids.has(id)) this.#baselines.delete(id);
  }

  #scan(deps: PoolDeps, instance: Instance): Promise<number> {
    return lastWriteAt(deps.files.stateDir(instance.id), countedPaths(deps, instance));
  }
}
