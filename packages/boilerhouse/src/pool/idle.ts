/**
 * Idle release (`pool.file_idle_ttl`): a claimed instance whose counted state sees no writes for the TTL is
 * released through the normal release path. When the deadline comes, a pass over the state's modification
 * times (write-scan.ts) decides: a newer write moves the deadline out, none releases. There is no inotify
 * watch: Node's recursive watch adds a watch per directory the tenant creates (from root's shared inotify
 * budget) and runs JavaScript per event and per new directory, so one tenant's file churn froze the daemon.
 * A pass costs at most ENTRIES_PER_TICK entries per instance per tick, and happens about once per TTL
 * whatever the churn. After a daemon restart the remaining time comes from the files' times.
 */
import { formatDuration } from '@boilerhouse/spec';
import { type Instance, listInstances } from '../db/instances.ts';
import { MappingSet } from '../state/mappings.ts';
import type { PoolDeps } from './deps.ts';
import type { Counts } from './state-writes.ts';
import { type ScanLimits, WriteScan } from './write-scan.ts';

/** Entries of one instance's state a tick looks at, at most. */
export const ENTRIES_PER_TICK = 2_000;

/** The paths whose writes count for an instance: those its mappings cover, or all without mappings. */
export function countedPaths(deps: Pick<PoolDeps, 'workloads'>, instance: Instance): Counts {
  const mappings = deps.workloads.get(instance.workload)?.spec.sync?.mappings;
  if (mappings === undefined || mappings.length === 0) return () => true;
  const set = new MappingSet(mappings);
  return (relative) => set.govern(relative) !== undefined;
}

interface Watched {
  /** The newest counted write the passes found, or the claim; 0 before the first pass. */
  lastWriteAt: number;
  /** The pass under way, when the deadline has come (or no pass has run yet). */
  scan: WriteScan | undefined;
}

type IdleDeps = Pick<PoolDeps, 'db' | 'now' | 'workloads' | 'files' | 'activity' | 'log'>;

export class IdleWatcher {
  readonly #deps: IdleDeps;
  readonly #release: (instance: Instance, why: string) => Promise<unknown>;
  readonly #limits: ScanLimits | undefined;
  /** Runtime-only: the newest write seen and the pass under way, per claimed instance. */
  readonly #watched = new Map<string, Watched>();

  constructor(
    deps: IdleDeps,
    release: (instance: Instance, why: string) => Promise<unknown>,
    limits?: ScanLimits,
  ) {
    this.#deps = deps;
    this.#release = release;
    this.#limits = limits;
  }

  /**
   * When a claimed instance will be released for idleness unless its files change. Until its first pass
   * (right after the claim) the claim itself is the last write.
   */
  releaseAt(instance: Instance): number | undefined {
    const ttl = this.#deps.workloads.get(instance.workload)?.spec.pool.fileIdleTtl;
    if (ttl === undefined || instance.phase !== 'claimed') return undefined;
    const watched = this.#watched.get(instance.id);
    return Math.max(watched?.lastWriteAt ?? 0, instance.claimedAt ?? 0) + ttl;
  }

  /**
   * Gateway traffic to a claimed instance (requests, open streams; gateway.activity): counts as a write
   * would, so the deadline moves out without a pass over its files.
   */
  noteTraffic(instanceId: string, at: number): void {
    const watched = this.#watched.get(instanceId);
    if (watched === undefined) this.#watched.set(instanceId, { lastWriteAt: at, scan: undefined });
    else watched.lastWriteAt = Math.max(watched.lastWriteAt, at);
  }

  async tick(): Promise<void> {
    const deps = this.#deps;
    const claimed = listInstances(deps.db, { phase: 'claimed' }).filter(
      (instance) => deps.workloads.get(instance.workload)?.spec.pool.fileIdleTtl !== undefined,
    );
    const ids = new Set(claimed.map((instance) => instance.id));
    for (const [id, watched] of this.#watched) {
      if (ids.has(id)) continue;
      this.#watched.delete(id);
      await watched.scan?.close();
    }
    for (const instance of claimed) await this.#tickOne(instance);
  }

  async stop(): Promise<void> {
    const scans = [...this.#watched.values()].map((watched) => watched.scan?.close());
    this.#watched.clear();
    await Promise.all(scans);
  }

  async #tickOne(instance: Instance): Promise<void> {
    const deps = this.#deps;
    const ttl = deps.workloads.get(instance.workload)?.spec.pool.fileIdleTtl as number;
    let watched = this.#watched.get(instance.id);
    if (watched === undefined) {
      watched = { lastWriteAt: 0, scan: undefined };
      this.#watched.set(instance.id, watched);
    }
    const claimedAt = instance.claimedAt ?? 0;
    if (watched.scan === undefined) {
      // The first pass runs at once, so that the files' own times count after a restart.
      if (watched.lastWriteAt !== 0 && deps.now() - watched.lastWriteAt < ttl) return;
      const counts = countedPaths(deps, instance);
      watched.scan = new WriteScan(deps.files.stateDir(instance.id), counts, deps.now, this.#limits);
    }
    const scan = watched.scan;
    let progress: Awaited<ReturnType<WriteScan['step']>>;
    try {
      progress = await scan.step(ENTRIES_PER_TICK);
    } catch (error) {
      // Not knowing whether the tenant wrote is no reason to release it: the next deadline tries again.
      watched.scan = undefined;
      watched.lastWriteAt = deps.now();
      await scan.close();
      deps.log.warn({ instance: instance.id, error }, 'idle scan failed; not releasing');
      return;
    }
    if (!progress.done) return;
    watched.scan = undefined;
    const now = deps.now();
    let newest = progress.newest;
    if (progress.incomplete !== undefined) {
      // A pass cut short cannot show the state quiet; its cost stays bounded by running once per TTL.
      deps.log.warn(
        { instance: instance.id, reason: progress.incomplete },
        'idle scan incomplete; not releasing',
      );
      newest = now;
    }
    const previous = watched.lastWriteAt;
    watched.lastWriteAt = Math.max(previous, newest, claimedAt);
    if (previous !== 0 && watched.lastWriteAt > previous) {
      deps.activity.signals.emit({ type: 'idle.reset', workload: instance.workload });
    }
    if (now - watched.lastWriteAt < ttl) return;
    deps.activity.signals.emit({ type: 'idle.expired', workload: instance.workload });
    deps.log.info(
      { instance: instance.id, tenant: instance.tenant, idleMs: now - watched.lastWriteAt },
      'idle release',
    );
    await this.#release(instance, `idle: no writes to its state for ${formatDuration(ttl)}`).catch(
      (error: Error) =>
        deps.log.warn({ instance: instance.id, error }, 'idle release failed; retrying later'),
    );
  }
}
