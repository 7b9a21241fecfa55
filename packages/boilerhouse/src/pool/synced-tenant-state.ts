/**
 * Tenant state on claim and release: restore the tenant's newest save into a new instance before its
 * workload starts, and save the instance's state before it is reserved or destroyed. One save or restore
 * per instance at a time; saves of unchanged state are skipped.
 */
import type { Environment } from '@boilerhouse/spec';
import type { Instance } from '../db/instances.ts';
import { numericOwner } from '../owner.ts';
import { saveBase } from '../state/keys.ts';
import { MappingSet } from '../state/mappings.ts';
import { damagedObject, failureCause } from '../state/save-errors.ts';
import { CachedSink } from '../state/sinks/cached-sink.ts';
import type { ObjectCache } from '../state/sinks/object-cache.ts';
import { openSink } from '../state/sinks/open.ts';
import type { Sink } from '../state/sinks/sink.ts';
import { type SaveResult, SnapshotStore } from '../state/snapshots.ts';
import { DEFAULT_SQLITE_BACKUP } from '../state/sqlite-backup.ts';
import type { Activity } from './activity.ts';
import type { InstanceFiles } from './instance-files.ts';
import type { TenantState } from './tenant-state.ts';
import type { Workload, WorkloadRegistry } from './workloads.ts';

export interface SyncedStateOptions {
  dataDir: string;
  env: Environment;
  files: InstanceFiles;
  workloads: WorkloadRegistry;
  activity: Activity;
  /** The SQLite backup helper (built next to the gate); the package's build by default. */
  sqliteBackup?: string;
  /** Hears every save that succeeded, changed or not (the tenant's next wakes are read then). */
  afterSave?: (instance: Instance, workload: Workload) => Promise<void>;
  /**
   * Removes the containers the instance started through its filtered Docker socket, which may still
   * write to its volumes: called before its last save, so that none writes after it.
   */
  removeChildren?: (instance: Instance) => Promise<unknown>;
  /** This host's cache of S3 saves' objects; none: every restore reads the bucket. */
  objectCache?: ObjectCache;
}

export class SyncedTenantState implements TenantState {
  readonly #options: SyncedStateOptions;
  /** One sink per workload version (an S3 client keeps its connections). */
  readonly #sinks = new Map<string, Sink>();
  /** The save or restore under way per instance, so they never overlap. */
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(options: SyncedStateOptions) {
    this.#options = options;
  }

  /** The saves of one tenant of one workload. */
  store(workload: Workload, tenant: string): SnapshotStore {
    const sync = workload.spec.sync;
    if (sync === undefined) throw new Error(`workload ${workload.id} has no state volume, so no saves`);
    let sink = this.#sinks.get(workload.hash);
    if (sink === undefined) {
      sink = openSink(sync.sink, { dataDir: this.#options.dataDir, env: this.#options.env });
      // A local sink is on this host's disk already.
      const cache = this.#options.objectCache;
      if (cache !== undefined && sync.sink.type === 's3') sink = new CachedSink(sink, cache);
      this.#sinks.set(workload.hash, sink);
    }
    const prefix = sync.sink.type === 's3' ? sync.sink.prefix : undefined;
    const binary = this.#options.sqliteBackup ?? DEFAULT_SQLITE_BACKUP.binary;
    return new SnapshotStore(sink, saveBase(prefix, tenant, workload.id), {
      sqliteBackup: { ...DEFAULT_SQLITE_BACKUP, binary },
    });
  }

  async restore(instance: Instance, workload: Workload, tenant: string): Promise<void> {
    const sync = workload.spec.sync;
    if (sync === undefined || !sync.policy.onClaim) return;
    const began = performance.now();
    const owner = numericOwner(workload.spec.security.user);
    const result = await this.#exclusive(instance.id, () =>
      this.store(workload, tenant).restore(
        this.#options.files.stateDir(instance.id),
        new MappingSet(sync.mappings),
        {
          ...(owner === undefined ? {} : { owner }),
        },
      ),
    ).catch((error: Error) => {
      this.#options.activity.record(
        {
          type: 'state.failed',
          workload: workload.id,
          tenant,
          instance: instance.id,
          message: `restoring ${tenant}'s state on claim failed: ${error.message}`,
          data: { why: 'claim', direction: 'restore', ...failureData(error), durationMs: since(began) },
        },
        'warn',
      );
      throw error;
    });
    if (result.seq === undefined) return;
    const durationMs = since(began);
    this.#options.activity.record({
      type: 'state.restored',
      workload: workload.id,
      tenant,
      instance: instance.id,
      message: `restored save ${result.seq} of ${tenant} (${result.files} files, ${result.bytes} bytes) in ${Math.round(durationMs)}ms`,
      data: { seq: result.seq, files: result.files, bytes: result.bytes, durationMs },
    });
  }

  async save(instance: Instance, workload: Workload): Promise<void> {
    if (workload.spec.sync?.policy.onRelease) await this.saveNow(instance, workload, 'release');
  }

  async beforeDestroy(instance: Instance): Promise<void> {
    await this.#options.removeChildren?.(instance);
    const workload = this.#options.workloads.get(instance.workload);
    if (workload !== undefined) await this.saveNow(instance, workload, 'destroy');
  }

  /** Saves the instance's state for its tenant now, whatever the policy (skipped when nothing changed). */
  async saveNow(instance: Instance, workload: Workload, why: string): Promise<SaveResult | undefined> {
    const sync = workload.spec.sync;
    if (sync === undefined || instance.tenant === null) return undefined;
    const tenant = instance.tenant;
    const began = performance.now();
    const store = this.store(workload, tenant);
    try {
      const result = await this.#exclusive(instance.id, async () => {
        const saved = await store.save(
          this.#options.files.stateDir(instance.id),
          new MappingSet(sync.mappings),
          instance.id,
        );
        if (saved.changed) await store.prune(sync.retention);
        return saved;
      });
      if (result.changed) {
        const durationMs = since(began);
        const whole =
          result.damaged === undefined
            ? ''
            : `; a whole save, since the last one is damaged: ${result.damaged}`;
        this.#options.activity.record(
          {
            type: 'state.saved',
            workload: workload.id,
            tenant,
            instance: instance.id,
            message: `saved ${tenant}'s state as save ${result.seq} on ${why} (${result.uploadedFiles} of ${result.files} files uploaded, ${result.uploadedBytes} bytes) in ${Math.round(durationMs)}ms${whole}`,
            data: { why, ...result, durationMs },
          },
          result.damaged === undefined ? 'info' : 'warn',
        );
      } else {
        const seconds = since(began) / 1000;
        this.#options.activity.signals.emit({ type: 'state.unchanged', workload: workload.id, seconds });
      }
      await this.#options.afterSave?.(instance, workload);
      return result;
    } catch (error) {
      this.#options.activity.record(
        {
          type: 'state.failed',
          workload: workload.id,
          tenant,
          instance: instance.id,
          message: `saving ${tenant}'s state on ${why} failed: ${(error as Error).message}`,
          data: { why, direction: 'save', ...failureData(error), durationMs: since(began) },
        },
        'warn',
      );
      throw error;
    }
  }

  async #exclusive<T>(instanceId: string, work: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(instanceId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    this.#busy.set(instanceId, run);
    try {
      return await run;
    } finally {
      if (this.#busy.get(instanceId) === run) this.#busy.delete(instanceId);
    }
  }
}

/** What a state.failed event says of its error: its cause, and the damaged or missing object if any. */
function failureData(error: unknown): { cause: string; object?: string } {
  const object = damagedObject(error);
  return { cause: failureCause(error), ...(object === undefined ? {} : { object }) };
}

/** Milliseconds since `began` (a performance.now() reading), to 0.01 ms. */
function since(began: number): number {
  return Math.round((performance.now() - began) * 100) / 100;
}
