/**
 * Moving tenants to their workload's current version. Every instance remembers the version (spec hash) it
 * was made from; when the workload's file changes, ready instances of the old version are replaced at once
 * (fill.ts), and a tenant's instance of an old version moves, always saved before it is destroyed:
 *
 *   at release   saved as any release is, then destroyed instead of reserved (release.ts): the tenant's
 *                next claim lands on the current version and restores that save
 *   reserved     frozen (paused, so that nothing writes after the save), saved, then destroyed, by the
 *                fill loop (`replaceReservations`); the tenant's next claim restores the save
 *   on command   `workload upgrade --now`: a claimed tenant is frozen, saved, and claimed again on an
 *                instance of the current version, as a tenant whose container died is (db/resumes.ts, so a
 *                daemon that stops in between still claims it at its next start)
 *
 * A move that fails before its save is done leaves the tenant on its instance, running, data intact, and
 * says why. `plan` says who moves when, and moves nobody.
 */

import { RetrySchedule } from '@boilerhouse/kit/retry-schedule';
import { crashPoint } from '../crash-points.ts';
import { inTransaction } from '../db/database.ts';
import {
  findTenantInstance,
  getInstance,
  type Instance,
  listInstances,
  type Phase,
  transition,
} from '../db/instances.ts';
import { addResume, listResumes, removeResume } from '../db/resumes.ts';
import { ConflictError } from '../errors.ts';
import type { Claims } from './claims.ts';
import type { PoolDeps } from './deps.ts';
import { type DestroyDeps, destroyInstance, finishDestroy } from './lifecycle.ts';
import { type HookDeps, runLifecycleHooks } from './lifecycle-hooks.ts';
import { imageNotOnHost, missingImages } from './missing-images.ts';
import type { TenantState } from './tenant-state.ts';
import type { Workload } from './workloads.ts';

/** Tenants `--now` moves at once unless told: a move may start a container, which is CPU-bound. */
export const DEFAULT_PARALLEL = 2;
export const MAX_PARALLEL = 16;
/** Reservations of an old version one fill pass replaces at once. */
const PARALLEL_REPLACEMENTS = 2;

/**
 * next_release: claimed (or on its way there or back), moves when it is released; replacing: reserved,
 * the fill loop replaces it; moved / replaced: done now; resuming: saved and its old instance gone, but
 * the claim on the current version failed, so it is claimed again in the background; failed: left where it
 * was, data intact; skipped: not moved now (it changed meanwhile, or the upgrade stopped first).
 */
export const MOVE_OUTCOMES = [
  'next_release',
  'replacing',
  'moved',
  'replaced',
  'resuming',
  'failed',
  'skipped',
] as const;

export type MoveOutcome = (typeof MOVE_OUTCOMES)[number];

export interface TenantMove {
  tenant: string;
  /** Its instance of an old version. */
  instance: string;
  version: string;
  phase: Phase;
  outcome: MoveOutcome;
  /** Its instance of the current version, once moved. */
  to: string | null;
  message: string;
}

export interface UpgradeReport {
  workload: string;
  version: string;
  now: boolean;
  /** Instances of an old version that hold no tenant (ready, creating): the fill loop replaces them. */
  idle: number;
  tenants: TenantMove[];
}

export interface UpgradeOptions {
  now: boolean;
  parallel?: number;
  /** Aborted when the daemon stops: moves under way finish, no new one starts. */
  signal?: AbortSignal;
}

/** Made from an older version of its (still served) workload. */
export function isOldVersion(workload: Workload, instance: Instance): boolean {
  return !workload.removed && instance.specHash !== workload.hash;
}

type UpgradeDeps = Pick<
  PoolDeps,
  'db' | 'now' | 'runtime' | 'workloads' | 'proxies' | 'activity' | 'log' | 'track'
> &
  DestroyDeps &
  HookDeps;

export class Upgrades {
  readonly #deps: UpgradeDeps;
  readonly #claims: Claims;
  readonly #state: TenantState;
  /** Why the pool cannot create instances now, if it cannot (the fill loop's back-off). */
  readonly #fillProblem: (workload: string) => string | undefined;
  /** Reservations whose replacement failed (a save), tried again with back-off. */
  readonly #retries: RetrySchedule;

  constructor(
    deps: UpgradeDeps,
    claims: Claims,
    state: TenantState,
    fillProblem: (workload: string) => string | undefined,
  ) {
    this.#deps = deps;
    this.#claims = claims;
    this.#state = state;
    this.#fillProblem = fillProblem;
    this.#retries = new RetrySchedule({ firstMs: 2_000, longestMs: 5 * 60_000, jitter: 0.2, now: deps.now });
  }

  /** Who is on an old version of the workload, and when each moves. Moves nobody. */
  plan(workload: Workload): UpgradeReport {
    const old = listInstances(this.#deps.db, { workload: workload.id }).filter(
      (instance) => isOldVersion(workload, instance) && instance.phase !== 'destroying',
    );
    return {
      workload: workload.id,
      version: workload.hash,
      now: false,
      idle: old.filter((instance) => instance.tenant === null).length,
      tenants: old
        .filter((instance) => instance.tenant !== null)
        .map((instance) => planned(workload, instance)),
    };
  }

  /**
   * The plan, or with `now` the plan carried out: claimed tenants moved and reservations replaced,
   * `parallel` at a time. The first move that fails stops the rest (they stay where they are, and say so):
   * what failed one tenant is likely to fail the next.
   */
  async upgrade(workload: Workload, options: UpgradeOptions): Promise<UpgradeReport> {
    const report = this.plan(workload);
    if (!options.now) return report;
    const movable = (move: TenantMove) => move.phase === 'claimed' || move.phase === 'reserved';
    if (report.tenants.some((move) => move.phase === 'claimed')) await this.#refuseUnstartable(workload);
    const moves = [...report.tenants];
    const queue = moves.flatMap((move, index) => (movable(move) ? [index] : []));
    let stopped: string | undefined;
    const work = async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        const move = moves[index] as TenantMove;
        if (options.signal?.aborted) stopped ??= 'the daemon is stopping';
        if (stopped !== undefined) {
          moves[index] = { ...move, outcome: 'skipped', message: `not moved: ${stopped}` };
          continue;
        }
        const moved = await this.#deps.track(this.#move(workload, move));
        moves[index] = moved;
        if (moved.outcome === 'failed' || moved.outcome === 'resuming') {
          stopped ??= `the upgrade stopped after ${moved.tenant}'s move failed; run it again once that is fixed`;
        }
      }
    };
    const parallel = Math.min(Math.max(options.parallel ?? DEFAULT_PARALLEL, 1), MAX_PARALLEL);
    await Promise.all(Array.from({ length: parallel }, work));
    return { ...report, now: true, tenants: moves };
  }

  /** The fill loop's part: reservations of an old version, saved and ended (failures with back-off). */
  async replaceReservations(workload: Workload): Promise<void> {
    const old = listInstances(this.#deps.db, { workload: workload.id, phase: 'reserved' }).filter(
      (instance) => isOldVersion(workload, instance),
    );
    this.#retries.keepOnly(new Set(old.map((instance) => instance.id)));
    const due = old.filter((instance) => this.#retries.due(instance.id));
    for (let start = 0; start < due.length; start += PARALLEL_REPLACEMENTS) {
      await Promise.all(
        due
          .slice(start, start + PARALLEL_REPLACEMENTS)
          .map((instance) => this.#replaceReserved(workload, instance, 'reservation')),
      );
    }
  }

  async #move(workload: Workload, planned: TenantMove): Promise<TenantMove> {
    const instance = getInstance(this.#deps.db, planned.instance);
    if (instance?.phase === 'claimed') return this.#moveClaimed(workload, instance);
    if (instance?.phase === 'reserved') return this.#replaceReserved(workload, instance, 'command');
    return {
      ...planned,
      outcome: 'skipped',
      message: `not moved: it is ${instance?.phase ?? 'gone'} now, no longer ${planned.phase}`,
    };
  }

  /**
   * claimed -> releasing, with the tenant to claim again (one transaction: a daemon that stops from here on
   * claims it at its next start, on the current version, once recovery has saved and destroyed this one)
   * -> frozen and saved -> destroyed -> claimed again on the current version. Claims and releases of the
   * tenant wait meanwhile; a release asked for meanwhile is honoured (the tenant is not claimed again).
   */
  async #moveClaimed(workload: Workload, instance: Instance): Promise<TenantMove> {
    const deps = this.#deps;
    const tenant = instance.tenant as string;
    const began = performance.now();
    const releasing = inTransaction(deps.db, () => {
      const moving = transition(deps.db, instance.id, 'claimed', 'releasing', deps.now(), {
        reason: `moving to version ${workload.hash}`,
      });
      if (moving !== undefined) {
        const reason = `it was moved to version ${workload.hash}`;
        addResume(deps.db, { workload: workload.id, tenant, reason, since: deps.now() });
      }
      return moving;
    });
    if (releasing === undefined) return skipped(workload, instance, 'not moved: it was no longer claimed');
    crashPoint('upgrade.moving');
    let stage = 'pre_release';
    try {
      await runLifecycleHooks(deps, releasing, workload.spec.hooks.preRelease, 'pre_release');
      stage = 'save';
      await this.#saveFrozen(releasing);
    } catch (error) {
      const message = (error as Error).message;
      inTransaction(deps.db, () => {
        transition(deps.db, releasing.id, 'releasing', 'claimed', deps.now(), {
          reason: `not moved to version ${workload.hash}: ${message}`,
        });
        removeResume(deps.db, workload.id, tenant);
      });
      return this.#failed(workload, instance, 'command', stage, message);
    }
    crashPoint('upgrade.saved');
    const reason = `moved to version ${workload.hash} (its state saved first)`;
    const destroying = transition(deps.db, releasing.id, 'releasing', 'destroying', deps.now(), { reason });
    if (destroying === undefined) {
      return skipped(workload, instance, 'not moved: it changed while it was being saved');
    }
    // A destroy that fails half-way is finished by the dead-instances loop; the tenant's data is saved.
    await finishDestroy(deps, destroying).catch((error: Error) =>
      deps.log.warn({ instance: instance.id, error: error.message }, 'destroying a moved instance failed'),
    );
    // Released by its tenant (or an idle release) meanwhile, which dropped the claim to come; unless the
    // resume loop made that claim already (it drops the row once done).
    const toClaim = listResumes(deps.db).some(
      (resume) => resume.workload === workload.id && resume.tenant === tenant,
    );
    if (!toClaim && findTenantInstance(deps.db, workload.id, tenant) === undefined) {
      const message = `released while it was moved: saved, and ${instance.id} destroyed; its next claim gets version ${workload.hash}`;
      this.#record(workload, instance, 'tenant.upgraded', `${tenant} ${message}`, { to: null });
      return { ...planned(workload, instance), outcome: 'replaced', message };
    }
    const claim = await this.#claims.claim(deps.workloads.get(workload.id) ?? workload, tenant).then(
      (result) => result,
      (error: Error) => error,
    );
    if (claim instanceof Error) {
      deps.activity.signals.emit({
        type: 'upgrade.moved',
        workload: workload.id,
        at: 'command',
        outcome: 'failed',
      });
      const message = `${tenant}'s state is saved and ${instance.id} is gone, but claiming version ${workload.hash} failed (${claim.message}); it is claimed again in the background, as after a crash`;
      this.#record(workload, instance, 'tenant.upgrade_failed', message, { stage: 'claim' });
      return { ...planned(workload, instance), outcome: 'resuming', message };
    }
    removeResume(deps.db, workload.id, tenant);
    const ms = Math.round(performance.now() - began);
    const message = `moved to ${claim.instance.id} (version ${claim.instance.specHash}, ${claim.path}) in ${ms}ms, its state saved first`;
    this.#record(workload, instance, 'tenant.upgraded', `${tenant} ${message}`, {
      to: claim.instance.id,
      toVersion: claim.instance.specHash,
      path: claim.path,
      ms,
    });
    deps.activity.signals.emit({
      type: 'upgrade.moved',
      workload: workload.id,
      at: 'command',
      outcome: 'moved',
    });
    return { ...planned(workload, instance), outcome: 'moved', to: claim.instance.id, message };
  }

  /** reserved -> releasing (a claim of it waits) -> frozen and saved -> destroyed. */
  async #replaceReserved(
    workload: Workload,
    instance: Instance,
    at: 'reservation' | 'command',
  ): Promise<TenantMove> {
    const deps = this.#deps;
    const releasing = transition(deps.db, instance.id, 'reserved', 'releasing', deps.now(), {
      reason: `replacing it with version ${workload.hash}`,
    });
    if (releasing === undefined)
      return skipped(workload, instance, 'not replaced: it was no longer reserved');
    try {
      await this.#saveFrozen(releasing);
    } catch (error) {
      const message = (error as Error).message;
      this.#retries.attempted(instance.id);
      transition(deps.db, releasing.id, 'releasing', 'reserved', deps.now(), {
        reason: `not replaced by version ${workload.hash} yet (tried again): ${message}`,
      });
      return this.#failed(workload, instance, at, 'save', message);
    }
    this.#retries.forget(instance.id);
    const reason = `replaced by version ${workload.hash} (its reservation saved first)`;
    await destroyInstance(deps, releasing, 'releasing', reason);
    deps.activity.signals.emit({ type: 'upgrade.moved', workload: workload.id, at, outcome: 'moved' });
    const message = `reservation saved and ${instance.id} destroyed: the next claim gets version ${workload.hash} with that save`;
    this.#record(workload, instance, 'tenant.upgraded', `${instance.tenant}'s ${message}`, { to: null });
    return { ...planned(workload, instance), outcome: 'replaced', message };
  }

  /**
   * Pauses the instance's container (unless it is paused already), so that nothing of it writes after the
   * save; saves its state (its children ended first) whatever the sync policy says. On failure a container
   * this paused runs again, and the error (with the unpause's, if that failed too) is thrown.
   */
  async #saveFrozen(instance: Instance): Promise<void> {
    const { runtime } = this.#deps;
    const container = instance.containerId;
    const running = container !== null && (await runtime.inspect(container))?.status === 'running';
    // One that cannot be paused (it just died) is saved from the host all the same.
    const froze =
      running &&
      (await runtime.pause(container).then(
        () => true,
        () => false,
      ));
    try {
      await this.#state.beforeDestroy(instance);
    } catch (error) {
      const thawed = froze
        ? await runtime.unpause(container).then(
            () => undefined,
            (e: Error) => e,
          )
        : undefined;
      if (thawed === undefined) throw error;
      throw new Error(`${(error as Error).message}; unpausing it again failed too: ${thawed.message}`, {
        cause: error,
      });
    }
  }

  /** Refused (409) before anyone moves: a tenant moved now must land on an instance that can start. */
  async #refuseUnstartable(workload: Workload): Promise<void> {
    const [missing] = await missingImages(this.#deps.runtime, workload.spec);
    if (missing !== undefined) {
      throw new ConflictError(
        `${imageNotOnHost(missing.image, missing.field, workload.hash)}; nobody was moved`,
      );
    }
    const problem = this.#fillProblem(workload.id);
    if (problem !== undefined) {
      throw new ConflictError(
        `the pool cannot create instances of version ${workload.hash} (${problem}); nobody was moved`,
      );
    }
  }

  #failed(
    workload: Workload,
    instance: Instance,
    at: 'reservation' | 'command',
    stage: string,
    error: string,
  ): TenantMove {
    this.#deps.activity.signals.emit({ type: 'upgrade.moved', workload: workload.id, at, outcome: 'failed' });
    const message = `stays on ${instance.id} (version ${instance.specHash}), data intact: ${error}`;
    this.#record(
      workload,
      instance,
      'tenant.upgrade_failed',
      `${instance.tenant} not moved to version ${workload.hash}: it ${message}`,
      { stage },
    );
    return { ...planned(workload, instance), outcome: 'failed', message };
  }

  #record(
    workload: Workload,
    instance: Instance,
    type: 'tenant.upgraded' | 'tenant.upgrade_failed',
    message: string,
    data: Record<string, unknown>,
  ): void {
    this.#deps.activity.record(
      {
        type,
        workload: workload.id,
        tenant: instance.tenant,
        instance: instance.id,
        message,
        data: { from: instance.id, fromVersion: instance.specHash, version: workload.hash, ...data },
      },
      type === 'tenant.upgraded' ? 'info' : 'warn',
    );
  }
}

/** What happens to a tenant's instance of an old version if nobody asks for more. */
function planned(workload: Workload, instance: Instance): TenantMove {
  const move = (outcome: MoveOutcome, message: string): TenantMove => ({
    tenant: instance.tenant as string,
    instance: instance.id,
    version: instance.specHash,
    phase: instance.phase,
    outcome,
    to: null,
    message,
  });
  const version = workload.hash;
  const afresh = workload.spec.sync === undefined ? ' (the workload keeps no state: it starts afresh)' : '';
  switch (instance.phase) {
    case 'reserved':
      return move(
        'replacing',
        `its reservation is saved and ended now; its next claim gets version ${version}${afresh}`,
      );
    case 'release_failed':
      return move(
        'next_release',
        'its release could not save yet (retried); once saved it is destroyed, not reserved',
      );
    case 'failed':
      return move(
        'next_release',
        `its container died: it is saved from the host and destroyed; its tenant then gets version ${version}`,
      );
    case 'releasing':
      return move('next_release', 'being released (or moved): destroyed instead of reserved once saved');
    default:
      return move('next_release', `moves to version ${version} at its next release, saved first${afresh}`);
  }
}

function skipped(workload: Workload, instance: Instance, message: string): TenantMove {
  return { ...planned(workload, instance), outcome: 'skipped', message };
}
