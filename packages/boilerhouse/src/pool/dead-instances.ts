/**
 * Instances whose container died: killed, crashed, out of memory, or stopped with the engine or the host.
 * The state volume is a host directory, so a death is never a reason to drop it. An instance that holds a
 * tenant's data is marked `failed` (with the reason), its children are removed so that nothing writes any
 * more, its state is saved from the host directories (the same atomic, SQLite-safe save as a release),
 * and only then is it destroyed. A save that fails leaves it `failed`, data in place, and is retried with
 * back-off; no second instance can be claimed for its tenant meanwhile (it still holds the tenant's slot).
 * A tenant that was claimed is claimed again, on a new instance with that save (pool/resumes.ts).
 * A destroy that failed half-way (the engine refused a removal as it came back from a restart) is
 * finished later, as recovery would finish it at the next start. Recovery fails instances the same way,
 * container running or not, when their claim mark shows a claim the database does not record
 * (pool/unrecorded-claims.ts).
 */

import { RetrySchedule } from '@boilerhouse/kit/retry-schedule';
import { crashPoint } from '../crash-points.ts';
import { inTransaction } from '../db/database.ts';
import { getInstance, type Instance, listInstances, transition, updateInPhase } from '../db/instances.ts';
import { addResume } from '../db/resumes.ts';
import type { PoolDeps } from './deps.ts';
import { type DestroyDeps, destroyInstance, failInstance, finishDestroy } from './lifecycle.ts';
import type { TenantState } from './tenant-state.ts';

/** A destroy still unfinished after this long failed half-way (a removal the engine refused). */
const STUCK_DESTROY_MS = 10_000;

type DeadInstanceDeps = Pick<
  PoolDeps,
  'db' | 'now' | 'workloads' | 'proxies' | 'activity' | 'log' | 'track'
> &
  DestroyDeps;

export class DeadInstances {
  readonly #deps: DeadInstanceDeps;
  readonly #state: TenantState;
  readonly #retries: RetrySchedule;
  /** Salvages under way, by instance, so that a claim and the retry loop share one. */
  readonly #salvaging = new Map<string, Promise<boolean>>();

  constructor(deps: DeadInstanceDeps, state: TenantState) {
    this.#deps = deps;
    this.#state = state;
    this.#retries = new RetrySchedule({ firstMs: 2_000, longestMs: 5 * 60_000, jitter: 0.2, now: deps.now });
  }

  /**
   * Marks an instance whose container died as failed (and its tenant as one to claim again, if it was
   * claimed), or destroys it at once when it holds no tenant's data. Returns the failed instance to
   * salvage, or undefined when there is nothing to save (or another actor moved it first).
   * `containerId` names the container actually found, when it differs from the row's.
   */
  async died(
    instance: Instance,
    reason: string,
    containerId: string | null = instance.containerId,
  ): Promise<Instance | undefined> {
    const deps = this.#deps;
    if (instance.tenant === null) {
      await failInstance(deps, instance, reason, containerId);
      return undefined;
    }
    const tenant = instance.tenant;
    const resumes = instance.phase === 'claimed';
    const failed = inTransaction(deps.db, () => {
      const moved = transition(deps.db, instance.id, instance.phase, 'failed', deps.now(), {
        reason,
        containerId,
      });
      if (moved !== undefined && resumes) {
        addResume(deps.db, { workload: instance.workload, tenant, reason, since: deps.now() });
      }
      return moved;
    });
    if (failed === undefined) return undefined;
    crashPoint('dead.failed');
    deps.activity.record(
      {
        type: 'instance.failed',
        workload: instance.workload,
        tenant,
        instance: instance.id,
        message: `instance ${instance.id} failed while ${instance.phase}: ${reason}; its state is saved from the host${resumes ? `, then ${tenant} is claimed again` : ''}`,
        data: { phase: instance.phase, resumes },
      },
      'warn',
    );
    return failed;
  }

  /**
   * Saves a failed instance's state from its host directories, then destroys it. True when it is gone;
   * false when the save failed (it stays failed, with the reason, and is tried again later).
   */
  salvage(failed: Instance): Promise<boolean> {
    const running = this.#salvaging.get(failed.id);
    if (running !== undefined) return running;
    const salvage = this.#deps.track(this.#salvage(failed)).finally(() => this.#salvaging.delete(failed.id));
    this.#salvaging.set(failed.id, salvage);
    return salvage;
  }

  /**
   * Salvages the failed instances whose next attempt is due (all of them, right after a start), and
   * finishes destroys that stopped half-way.
   */
  async tick(): Promise<void> {
    const deps = this.#deps;
    const failed = listInstances(deps.db, { phase: 'failed' });
    const stuck = listInstances(deps.db, { phase: 'destroying' }).filter(
      (instance) => deps.now() - instance.phaseChangedAt > STUCK_DESTROY_MS,
    );
    this.#retries.keepOnly(new Set([...failed, ...stuck].map((instance) => instance.id)));
    await Promise.all([
      ...failed
        .filter((instance) => this.#retries.due(instance.id))
        .map((instance) => this.salvage(instance)),
      ...stuck.filter((instance) => this.#retries.due(instance.id)).map((instance) => this.#finish(instance)),
    ]);
  }

  async #finish(destroying: Instance): Promise<void> {
    this.#retries.attempted(destroying.id);
    await this.#deps
      .track(finishDestroy(this.#deps, destroying))
      .catch((error: Error) =>
        this.#deps.log.warn(
          { instance: destroying.id, error: error.message },
          'destroying an instance failed again; tried later',
        ),
      );
  }

  async #salvage(failed: Instance): Promise<boolean> {
    const deps = this.#deps;
    const attempt = this.#retries.attempted(failed.id);
    if (attempt > 1) {
      deps.activity.signals.emit({ type: 'save.retried', workload: failed.workload, of: 'dead_instance' });
    }
    try {
      // Its children may still run and write to its volumes: beforeDestroy removes them before the save.
      if (failed.tenant !== null) await this.#state.beforeDestroy(failed);
    } catch (error) {
      updateInPhase(deps.db, failed.id, 'failed', {
        reason: `its container died and saving its state failed (attempt ${attempt}, retried with back-off): ${(error as Error).message}`,
      });
      return false;
    }
    const reason = `its state was saved from the host first (${failed.reason ?? 'its container died'})`;
    try {
      if (await destroyInstance(deps, failed, 'failed', reason)) return true;
    } catch (error) {
      // Saved, and marked destroying: the rest of the destroy is finished later (tick), nothing is lost.
      deps.log.warn(
        { instance: failed.id, error: (error as Error).message },
        'destroy after a save failed half-way',
      );
    }
    // False only when it is still failed: an operator's destroy may have taken it meanwhile.
    return getInstance(deps.db, failed.id)?.phase !== 'failed';
  }
}
