/**
 * Whether a reserved instance has written to its state since it was reserved. The newest file time of its
 * counted state is taken when it is reserved and compared with later scans: both are file-system times, so
 * the kernel's coarse file clock cannot hide a write made just after the reservation. Runtime-only: after
 * a daemon restart the first scan of each reservation becomes its starting point.
 */
import type { Instance } from '../db/instances.ts';
import type { PoolDeps } from './deps.ts';
import { countedPaths, ENTRIES_PER_TICK } from './idle.ts';
import { lastWriteAt } from './state-writes.ts';
import { WriteScan } from './write-scan.ts';

/** What a scan of a reservation's state uses: where the state is, which paths count, the clock, the log. */
export type ScanDeps = Pick<PoolDeps, 'files' | 'workloads' | 'now' | 'log'>;

export class ReservedWrites {
  readonly #baselines = new Map<string, number>();
  /** The pass under way per reservation: each tick looks at a bounded share of a large volume. */
  readonly #scans = new Map<string, WriteScan>();

  /** Records the state's newest write as the instance is being reserved. */
  async mark(deps: ScanDeps, instance: Instance): Promise<void> {
    this.#baselines.set(instance.id, await this.#scan(deps, instance));
  }

  /** True when the instance wrote to its counted state since `mark` (or since it was first looked at). */
  async wrote(deps: ScanDeps, instance: Instance): Promise<boolean> {
    const scan =
      this.#scans.get(instance.id) ??
      new WriteScan(deps.files.stateDir(instance.id), countedPaths(deps, instance), deps.now);
    this.#scans.set(instance.id, scan);
    const progress = await scan.step(ENTRIES_PER_TICK).catch(async (error: unknown) => {
      this.#scans.delete(instance.id);
      await scan.close();
      throw error;
    });
    if (!progress.done) return false;
    this.#scans.delete(instance.id);
    if (progress.incomplete !== undefined) {
      // Not known; what it wrote is still saved when the reservation ends (saved if changed).
      deps.log.warn({ instance: instance.id, reason: progress.incomplete }, 'reserved-write scan incomplete');
      return false;
    }
    const baseline = this.#baselines.get(instance.id);
    if (baseline === undefined) this.#baselines.set(instance.id, progress.newest);
    return baseline !== undefined && progress.newest > baseline;
  }

  /** Drops what is kept for instances no longer reserved. */
  async keepOnly(ids: ReadonlySet<string>): Promise<void> {
    for (const id of this.#baselines.keys()) if (!ids.has(id)) this.#baselines.delete(id);
    for (const [id, scan] of this.#scans) {
      if (ids.has(id)) continue;
      this.#scans.delete(id);
      await scan.close();
    }
  }

  #scan(deps: ScanDeps, instance: Instance): Promise<number> {
    return lastWriteAt(deps.files.stateDir(instance.id), countedPaths(deps, instance));
  }
}
