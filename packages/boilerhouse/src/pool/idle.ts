/**
 * Idle release (`pool.file_idle_ttl`): a claimed instance whose state sees no writes for the TTL is
 * released through the normal release path. Writes are watched with a recursive `fs.watch` (inotify) and
 * backed by a periodic scan of modification times, so a missed event or an inotify limit never keeps an
 * instance claimed forever; after a daemon restart the remaining time comes from the files' times.
 */
import { type FSWatcher, watch } from 'node:fs';
import { type Instance, listInstances } from '../db/instances.ts';
import { MappingSet } from '../state/mappings.ts';
import type { PoolDeps } from './deps.ts';
import { type Counts, lastWriteAt } from './state-writes.ts';

/** How often the modification times are scanned, in case the watch missed something. */
const SCAN_EVERY_MS = 30_000;

/** The paths whose writes count for an instance: those its mappings cover, or all without mappings. */
export function countedPaths(deps: PoolDeps, instance: Instance): Counts {
  const mappings = deps.workloads.get(instance.workload)?.spec.sync?.mappings;
  if (mappings === undefined || mappings.length === 0) return () => true;
  const set = new MappingSet(mappings);
  return (relative) => set.govern(relative) !== undefined;
}

interface Watched {
  watcher: FSWatcher | undefined;
  lastWriteAt: number;
  lastScanAt: number;
  /** lastWriteAt as the previous tick saw it, to tell when writes pushed the deadline out (a reset). */
  seenWriteAt: number;
}

export class IdleWatcher {
  readonly #deps: PoolDeps;
  readonly #release: (instance: Instance) => Promise<unknown>;
  /** Runtime-only: the watch and the newest write seen, per claimed instance. */
  readonly #watched = new Map<string, Watched>();

  constructor(deps: PoolDeps, release: (instance: Instance) => Promise<unknown>) {
    this.#deps = deps;
    this.#release = release;
  }

  /**
   * When a claimed instance will be released for idleness. Until its first scan (right after the claim)
   * the claim itself is the last write.
   */
  releaseAt(instance: Instance): number | undefined {
    const ttl = this.#deps.workloads.get(instance.workload)?.spec.pool.fileIdleTtl;
    if (ttl === undefined || instance.phase !== 'claimed') return undefined;
    const watched = this.#watched.get(instance.id);
    return Math.max(watched?.lastWriteAt ?? 0, instance.claimedAt ?? 0) + ttl;
  }

  async tick(): Promise<void> {
    const deps = this.#deps;
    const now = deps.now();
    const claimed = listInstances(deps.db, { phase: 'claimed' }).filter(
      (instance) => deps.workloads.get(instance.workload)?.spec.pool.fileIdleTtl !== undefined,
    );
    const ids = new Set(claimed.map((instance) => instance.id));
    for (const [id, watched] of this.#watched) {
      if (ids.has(id)) continue;
      watched.watcher?.close();
      this.#watched.delete(id);
    }
    for (const instance of claimed) {
      const ttl = deps.workloads.get(instance.workload)?.spec.pool.fileIdleTtl as number;
      let watched = this.#watched.get(instance.id);
      if (watched === undefined) {
        watched = { watcher: this.#watch(instance), lastWriteAt: 0, lastScanAt: 0, seenWriteAt: 0 };
        this.#watched.set(instance.id, watched);
      }
      if (now - watched.lastScanAt >= SCAN_EVERY_MS || now - watched.lastWriteAt >= ttl) {
        watched.lastScanAt = now;
        const scanned = await lastWriteAt(deps.files.stateDir(instance.id), countedPaths(deps, instance));
        watched.lastWriteAt = Math.max(watched.lastWriteAt, scanned, instance.claimedAt ?? 0);
      }
      if (watched.seenWriteAt !== 0 && watched.lastWriteAt > watched.seenWriteAt) {
        deps.activity.signals.emit({ type: 'idle.reset', workload: instance.workload });
      }
      watched.seenWriteAt = watched.lastWriteAt;
      if (now - watched.lastWriteAt < ttl) continue;
      deps.activity.signals.emit({ type: 'idle.expired', workload: instance.workload });
      deps.log.info(
        { instance: instance.id, tenant: instance.tenant, idleMs: now - watched.lastWriteAt },
        'idle release',
      );
      await this.#release(instance).catch((error: Error) =>
        deps.log.warn({ instance: instance.id, error }, 'idle release failed; retrying later'),
      );
    }
  }

  stop(): void {
    for (const watched of this.#watched.values()) watched.watcher?.close();
    this.#watched.clear();
  }

  #watch(instance: Instance): FSWatcher | undefined {
    const counts = countedPaths(this.#deps, instance);
    try {
      const watcher = watch(
        this.#deps.files.stateDir(instance.id),
        { recursive: true },
        (_event, filename) => {
          const watched = this.#watched.get(instance.id);
          if (watched !== undefined && filename !== null && counts(filename.toString())) {
            watched.lastWriteAt = this.#deps.now();
          }
        },
      );
      // A watch that fails (inotify limit) leaves the periodic scan to notice writes.
      watcher.on('error', () => watcher.close());
      return watcher;
    } catch {
      return undefined;
    }
  }
}
