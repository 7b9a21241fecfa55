/**
 * Release(tenant, workload): save the tenant's state, then keep the instance reserved for that tenant for
 * `affinity_timeout` (running, or paused with `reserve: pause`), or destroy it at once when that is 0.
 * An instance of an older version of the workload is destroyed instead of reserved, once saved: the
 * tenant's next claim lands on the current version and restores that save (pool/upgrades.ts).
 * When a reservation ends it is saved again if needed and destroyed; the pool refills.
 */

import { RetrySchedule } from '@boilerhouse/kit/retry-schedule';
import { formatDuration } from '@boilerhouse/spec';
import { crashPoint } from '../crash-points.ts';
import {
  expiredReservations,
  findTenantInstance,
  getInstance,
  type Instance,
  listInstances,
  transition,
} from '../db/instances.ts';
import { removeResume } from '../db/resumes.ts';
import { NotFoundError, SaveFailedError } from '../errors.ts';
import type { Claims } from './claims.ts';
import type { DeadInstances } from './dead-instances.ts';
import type { PoolDeps } from './deps.ts';
import { type DestroyDeps, destroyInstance } from './lifecycle.ts';
import { type HookDeps, runLifecycleHooks } from './lifecycle-hooks.ts';
import type { ScanDeps } from './reserved-writes.ts';
import type { TenantState } from './tenant-state.ts';
import { isOldVersion } from './upgrades.ts';
import type { Workload } from './workloads.ts';

export interface ReleaseResult {
  tenant: string;
  workload: string;
  instance: Instance | null;
  /**
   * What happened to the instance: kept for the tenant, destroyed, or still `saving` when the caller's
   * wait ran out (the save goes on; a failure leaves it release_failed, retried, as always).
   */
  outcome: 'reserved' | 'destroyed' | 'saving';
  timingsMs: { total: number };
}

/** What reserving a saved instance uses: its reservation (or its destroy) and the scan of its writes. */
type ReserveDeps = Pick<PoolDeps, 'db' | 'now' | 'runtime' | 'activity' | 'reservedWrites'> &
  DestroyDeps &
  ScanDeps;
/** What saving a releasing instance uses (its children removed first), then reserving it. */
export type SaveDeps = Pick<PoolDeps, 'db' | 'now' | 'activity' | 'proxies'> & ReserveDeps;

export async function release(
  deps: Pick<PoolDeps, 'db' | 'now' | 'activity' | 'releaseAnswerMs' | 'track'> & HookDeps & SaveDeps,
  claims: Claims,
  state: TenantState,
  dead: DeadInstances,
  workload: Workload,
  tenant: string,
  why = 'requested',
): Promise<ReleaseResult> {
  const started = performance.now();
  await claims.pending(workload.id, tenant)?.catch(() => undefined);
  // Released: a tenant whose container died is not claimed again for it.
  const resumeDropped = removeResume(deps.db, workload.id, tenant);
  let instance = findTenantInstance(deps.db, workload.id, tenant);
  const done = (outcome: ReleaseResult['outcome'], kept: Instance | null): ReleaseResult => ({
    tenant,
    workload: workload.id,
    instance: kept,
    outcome,
    timingsMs: { total: Math.round((performance.now() - started) * 100) / 100 },
  });
  // A release already under way: wait for it (within the caller's time), then answer as it did.
  const answerBy = performance.now() + deps.releaseAnswerMs;
  while (instance?.phase === 'releasing') {
    if (performance.now() > answerBy) return done('saving', instance);
    await new Promise((resolve) => setTimeout(resolve, 10));
    instance = findTenantInstance(deps.db, workload.id, tenant);
  }
  // Its container died and its state was saved: it was waiting to be claimed again, and is released now.
  if (instance === undefined && resumeDropped) return done('destroyed', null);
  if (instance === undefined) throw new NotFoundError(`tenant ${tenant} has no instance of ${workload.id}`);
  if (instance.phase === 'reserved') return done('reserved', instance);
  if (instance.phase === 'failed') {
    if (await dead.salvage(instance)) return done('destroyed', null);
    throw new SaveFailedError(
      `${tenant}'s instance of ${workload.id} died and its state could not be saved yet; it is kept (failed) and the save is retried`,
    );
  }
  // A claimed instance, or one whose earlier release could not save: release (again) now.
  // Why it is released, on the instance (and in its event) until it is reserved.
  const releasing = transition(deps.db, instance.id, ['claimed', 'release_failed'], 'releasing', deps.now(), {
    reason: `released: ${why}`,
  });
  if (releasing === undefined) {
    throw new NotFoundError(
      `tenant ${tenant}'s instance of ${workload.id} is ${instance.phase}, not claimed`,
    );
  }
  const finished = (outcome: 'reserved' | 'destroyed' | 'failed') =>
    deps.activity.signals.emit({
      type: 'release.finished',
      workload: workload.id,
      outcome,
      reserve: outcome === 'reserved' ? workload.spec.pool.reserve : 'none',
      seconds: (performance.now() - started) / 1000,
    });
  const work = deps.track(
    (async () => {
      crashPoint('release.releasing');
      try {
        await runLifecycleHooks(deps, releasing, workload.spec.hooks.preRelease, 'pre_release');
      } catch (error) {
        // A failing pre_release hook (on_error: fail) stops the release: the tenant keeps its instance.
        transition(deps.db, releasing.id, 'releasing', 'claimed', deps.now());
        throw error;
      }
      const kept = await saveThenReserve(deps, state, workload, releasing);
      return kept === undefined ? done('destroyed', null) : done('reserved', kept);
    })().then(
      (result) => {
        finished(result.outcome === 'reserved' ? 'reserved' : 'destroyed');
        return result;
      },
      (error: unknown) => {
        finished('failed');
        throw error;
      },
    ),
  );
  // A save held up (a sink that does not answer) must not hold the caller: past its time it is told the
  // save goes on. A failure after that is the release_failed phase's, and its retries', to tell.
  let timer: NodeJS.Timeout | undefined;
  const answeredLate = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, answerBy - performance.now()));
  });
  try {
    const first = await Promise.race([work, answeredLate]);
    if (first !== 'late') return first;
    work.catch(() => undefined); // reported by its phase and events, not to this caller
    return done('saving', getInstance(deps.db, releasing.id) ?? releasing);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Saves a releasing instance, then reserves (or destroys) it. When the save fails, the instance and its
 * data stay, in phase release_failed, and the save is retried with back-off (ReleaseRetries).
 */
export async function saveThenReserve(
  deps: SaveDeps,
  state: TenantState,
  workload: Workload,
  releasing: Instance,
): Promise<Instance | undefined> {
  try {
    // The tenant's containers end with its tenancy, before the save, so that none writes after it; or,
    // where the workload keeps them, with its reservation (beforeDestroy removes them before that save).
    if (!keepsChildren(workload, releasing)) await deps.proxies.removeChildren(releasing.id, workload.spec);
    // An old version's instance is destroyed next, not kept: saved whatever sync.policy.on_release says,
    // as an ending reservation is.
    if (isOldVersion(workload, releasing)) await state.beforeDestroy(releasing);
    else await state.save(releasing, workload);
  } catch (error) {
    const reason = `saving its state failed: ${(error as Error).message}`;
    transition(deps.db, releasing.id, 'releasing', 'release_failed', deps.now(), { reason });
    throw new SaveFailedError(
      `release of ${releasing.tenant}'s ${workload.id} could not save its state (${(error as Error).message}); the instance and its data are kept (release_failed) and the save is retried`,
      { cause: error },
    );
  }
  crashPoint('release.saved');
  deps.activity.record({
    type: 'instance.released',
    workload: workload.id,
    tenant: releasing.tenant,
    instance: releasing.id,
    message: `${releasing.tenant} released ${releasing.id} (${releasing.reason ?? 'released: requested'})`,
    data: { why: releasing.reason },
  });
  return reserve(deps, workload, releasing);
}

/**
 * Whether a release leaves the instance's containers running through its reservation (docker.on_release
 * keep): only when it will be reserved running, so a tenant back in time finds them as they were (an
 * assistant's agent still holding its conversation). Whatever they write meanwhile is the reservation's,
 * caught like its own process's writes (reclaimWriters) and saved before it ends.
 */
function keepsChildren(workload: Workload, instance: Instance): boolean {
  const { pool, docker } = workload.spec;
  return (
    docker?.onRelease === 'keep' &&
    pool.reserve === 'run' &&
    notReservedBecause(workload, instance) === undefined
  );
}

/** Why a released instance is destroyed instead of reserved, or undefined when it is reserved. */
function notReservedBecause(workload: Workload, instance: Instance): string | undefined {
  if (isOldVersion(workload, instance)) return `replaced by version ${workload.hash} at release`;
  if (workload.removed) return 'its workload was removed';
  if (workload.spec.pool.affinityTimeout === 0) return 'released with affinity off';
  return undefined;
}

/** Retries the saves of releases that failed, with jittered exponential back-off, until they succeed. */
type RetryDeps = Pick<PoolDeps, 'db' | 'now' | 'workloads' | 'activity' | 'track'> & SaveDeps;

export class ReleaseRetries {
  readonly #deps: RetryDeps;
  readonly #state: TenantState;
  readonly #retries: RetrySchedule;

  constructor(deps: RetryDeps, state: TenantState) {
    this.#deps = deps;
    this.#state = state;
    this.#retries = new RetrySchedule({ firstMs: 2_000, longestMs: 5 * 60_000, jitter: 0.2, now: deps.now });
  }

  async tick(): Promise<void> {
    const deps = this.#deps;
    const failed = listInstances(deps.db, { phase: 'release_failed' });
    this.#retries.keepOnly(new Set(failed.map((instance) => instance.id)));
    for (const instance of failed) {
      const workload = deps.workloads.get(instance.workload);
      // The release itself was the first attempt.
      if (this.#retries.attempts(instance.id) === 0) this.#retries.attempted(instance.id);
      if (workload === undefined || !this.#retries.due(instance.id)) continue;
      const releasing = transition(deps.db, instance.id, 'release_failed', 'releasing', deps.now());
      if (releasing === undefined) continue;
      this.#retries.attempted(instance.id);
      deps.activity.signals.emit({ type: 'save.retried', workload: instance.workload, of: 'release' });
      await deps.track(saveThenReserve(deps, this.#state, workload, releasing)).catch(() => undefined);
    }
  }
}

/**
 * releasing -> reserved (or destroyed when affinity is off, the workload is gone, or the instance is of an
 * older version of it). Its state is saved before this is called.
 */
export async function reserve(
  deps: ReserveDeps,
  workload: Workload,
  instance: Instance,
): Promise<Instance | undefined> {
  const { affinityTimeout, reserve: mode } = workload.spec.pool;
  const notReserved = notReservedBecause(workload, instance);
  if (notReserved !== undefined) {
    await destroyInstance(deps, instance, 'releasing', notReserved);
    if (isOldVersion(workload, instance)) {
      deps.activity.signals.emit({
        type: 'upgrade.moved',
        workload: workload.id,
        at: 'release',
        outcome: 'moved',
      });
    }
    return undefined;
  }
  if (mode === 'pause' && instance.containerId !== null) {
    const paused = await deps.runtime.pause(instance.containerId).then(
      () => undefined,
      (error: Error) => error,
    );
    // Its state is saved: an instance that cannot be paused (its container died) goes, losing nothing.
    if (paused !== undefined) {
      await destroyInstance(deps, instance, 'releasing', `could not be paused: ${paused.message}`);
      return undefined;
    }
  } else await deps.reservedWrites.mark(deps, instance);
  // A failed save's reason, or why it was released, says nothing about a reservation: cleared.
  const reserved = transition(deps.db, instance.id, 'releasing', 'reserved', deps.now(), {
    reservedUntil: deps.now() + affinityTimeout,
    reason: null,
  });
  if (reserved !== undefined) {
    deps.activity.record({
      type: 'instance.reserved',
      workload: workload.id,
      tenant: instance.tenant,
      instance: instance.id,
      message: `${instance.id} reserved for ${instance.tenant} for ${formatDuration(affinityTimeout)} (${mode === 'pause' ? 'paused' : 'running'})`,
      data: { reservedUntil: reserved.reservedUntil, mode },
    });
  }
  return reserved;
}

/**
 * A reserved instance that kept running and wrote to its state since it was reserved is claimed back for
 * its tenant (reserved -> claimed), so what it wrote is saved with its next release.
 */
export async function reclaimWriters(
  deps: Pick<PoolDeps, 'db' | 'now' | 'workloads' | 'activity' | 'reservedWrites'> & ScanDeps,
): Promise<void> {
  const reserved = listInstances(deps.db, { phase: 'reserved' });
  await deps.reservedWrites.keepOnly(new Set(reserved.map((instance) => instance.id)));
  for (const instance of reserved) {
    if (deps.workloads.get(instance.workload)?.spec.pool.reserve !== 'run') continue;
    if (!(await deps.reservedWrites.wrote(deps, instance))) continue;
    const claimed = transition(deps.db, instance.id, 'reserved', 'claimed', deps.now(), {
      reservedUntil: null,
      claimedAt: deps.now(),
    });
    if (claimed === undefined) continue;
    deps.activity.record({
      type: 'instance.reclaimed',
      workload: instance.workload,
      tenant: instance.tenant,
      instance: instance.id,
      message: `${instance.id} wrote to its state while reserved; claimed back for ${instance.tenant}`,
      data: { reason: 'state written while reserved' },
    });
  }
}

/** Ends every reservation whose time is up: saved if it changed, then destroyed. */
export async function expireReservations(deps: DestroyDeps, state: TenantState): Promise<void> {
  for (const instance of expiredReservations(deps.db, deps.now())) {
    // A failed save keeps the reservation; the next tick tries again.
    const saved = await state.beforeDestroy(instance).then(
      () => true,
      () => false,
    );
    if (saved) await destroyInstance(deps, instance, 'reserved', 'its reservation ended');
  }
}
