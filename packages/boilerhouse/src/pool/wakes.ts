/**
 * Scheduled wakes (`pool.wake`): Boilerhouse claims a released tenant by itself, at the time its wake file
 * names (`at_file`, trigger `schedule`) and `every` so long after its last save (trigger `every`); the idle
 * release lets it go again. Both are set at every save of the tenant's instance (release, interval,
 * destroy, a dead container's salvage), which is when its state, wake file included, is known to be
 * written. The wakes are rows (db/wakes.ts), so they survive a restart and one missed meanwhile runs at
 * start. A failed claim is tried again with a bounded back-off (pool/claim-retries.ts), then given up.
 */
import { findTenantInstance, type Instance } from '../db/instances.ts';
import {
  clearWake,
  dueWakes,
  finishWake,
  lastDueAt,
  removeWakes,
  setWake,
  type Wake,
  type WakeTrigger,
} from '../db/wakes.ts';
import { type ClaimJob, type ClaimOutcome, ClaimRetries } from './claim-retries.ts';
import type { Claims } from './claims.ts';
import type { PoolDeps } from './deps.ts';
import { readWakeFile } from './wake-file.ts';
import type { Workload } from './workloads.ts';

const MAX_ATTEMPTS = 10;

type WakeJob = ClaimJob & { wake: Wake };

type WakeDeps = Pick<PoolDeps, 'db' | 'now' | 'workloads' | 'files' | 'activity' | 'log'>;

export class Wakes {
  readonly #deps: WakeDeps;
  readonly #claims: Claims;
  readonly #retries: ClaimRetries;

  constructor(deps: WakeDeps, claims: Claims) {
    this.#deps = deps;
    this.#claims = claims;
    this.#retries = new ClaimRetries(claims, { maxAttempts: MAX_ATTEMPTS, now: deps.now });
  }

  /**
   * After a save of the instance's state for its tenant: its next wakes. Never fails the save: a wake
   * file that cannot be read is an event, and a database that cannot be written a warning in the log.
   */
  async afterSave(instance: Instance, workload: Workload): Promise<void> {
    const wake = workload.spec.pool.wake;
    if (wake === undefined || instance.tenant === null) return;
    const tenant = instance.tenant;
    try {
      const now = this.#deps.now();
      if (wake.every !== undefined) {
        setWake(this.#deps.db, {
          workload: workload.id,
          tenant,
          trigger: 'every',
          dueAt: now + wake.every,
          setAt: now,
        });
      }
      if (wake.atFile !== undefined) await this.#readAtFile(instance, workload, tenant, wake.atFile);
    } catch (error) {
      this.#deps.log.warn(
        { workload: workload.id, tenant, instance: instance.id, error: (error as Error).message },
        "could not record the tenant's next wake",
      );
    }
  }

  async #readAtFile(instance: Instance, workload: Workload, tenant: string, atFile: string): Promise<void> {
    const deps = this.#deps;
    const file = await readWakeFile(deps.files.stateDir(instance.id), atFile);
    if (file.kind === 'at') {
      const ran = lastDueAt(deps.db, workload.id, tenant, 'schedule');
      // A file still naming the wake that ran (nothing rewrote it) asks for nothing new.
      if (ran === undefined || file.at > ran) {
        setWake(deps.db, {
          workload: workload.id,
          tenant,
          trigger: 'schedule',
          dueAt: file.at,
          setAt: deps.now(),
        });
        return;
      }
    }
    clearWake(deps.db, workload.id, tenant, 'schedule');
    if (file.kind !== 'refused') return;
    deps.activity.record(
      {
        type: 'tenant.wake_refused',
        workload: workload.id,
        tenant,
        instance: instance.id,
        message: `${tenant}'s wake file was refused, so no wake is scheduled: ${file.reason}`,
        data: { file: atFile, reason: file.reason },
      },
      'warn',
    );
  }

  async tick(): Promise<void> {
    const deps = this.#deps;
    const now = deps.now();
    const due = dueWakes(deps.db, now);
    this.#retries.keepOnly(new Set(due.map(keyOf)));
    const jobs: WakeJob[] = [];
    for (const wake of due) {
      const workload = deps.workloads.get(wake.workload);
      if (workload === undefined || workload.removed || !asksFor(workload, wake.trigger)) {
        // The workload is gone, or no longer asks for wakes of this kind.
        removeWakes(deps.db, wake.workload, wake.trigger);
        continue;
      }
      const own = findTenantInstance(deps.db, wake.workload, wake.tenant);
      if (own?.phase === 'claimed' || this.#claims.pending(wake.workload, wake.tenant) !== undefined) {
        // Running already: it does what is due itself.
        finishWake(deps.db, wake, this.#next(wake, workload, now), now);
        this.#count(wake, 'running');
        continue;
      }
      if (this.#retries.due(keyOf(wake))) {
        jobs.push({ key: keyOf(wake), workload, tenant: wake.tenant, wake });
      }
    }
    await this.#retries.run(jobs, (job, outcome) => this.#settle(job, outcome));
  }

  #settle(job: WakeJob, outcome: ClaimOutcome): void {
    const deps = this.#deps;
    const { wake, workload } = job;
    const now = deps.now();
    const dueAt = new Date(wake.dueAt).toISOString();
    if (outcome.ok) {
      const { claim } = outcome;
      finishWake(deps.db, wake, this.#next(wake, workload, now), now);
      const latencyMs = now - wake.dueAt;
      deps.activity.record({
        type: 'tenant.woken',
        workload: wake.workload,
        tenant: wake.tenant,
        instance: claim.instance.id,
        message: `${wake.tenant} woken (${wake.trigger}, due ${dueAt}) on ${claim.instance.id} (${claim.path}, ${claim.timingsMs.total}ms), ${latencyMs}ms after it was due`,
        data: { trigger: wake.trigger, dueAt, latencyMs, path: claim.path, attempts: outcome.attempts },
      });
      this.#count(wake, 'woken');
      return;
    }
    if (!outcome.last) {
      deps.log.warn(
        {
          workload: wake.workload,
          tenant: wake.tenant,
          trigger: wake.trigger,
          attempts: outcome.attempts,
          error: outcome.error.message,
        },
        'a wake could not claim its tenant; trying again',
      );
      this.#count(wake, 'failed');
      return;
    }
    finishWake(deps.db, wake, this.#next(wake, workload, now), now);
    deps.activity.record(
      {
        type: 'tenant.wake_failed',
        workload: wake.workload,
        tenant: wake.tenant,
        message: `${wake.tenant} could not be woken (${wake.trigger}, due ${dueAt}) after ${outcome.attempts} attempts (${outcome.error.message}); its next claim or save sets its wakes again`,
        data: { trigger: wake.trigger, dueAt, attempts: outcome.attempts },
      },
      'warn',
    );
    this.#count(wake, 'given_up');
  }

  /** After a wake of this trigger: `every` comes round again; a scheduled one waits for the next save. */
  #next(wake: Wake, workload: Workload, now: number): number | null {
    const every = workload.spec.pool.wake?.every;
    return wake.trigger === 'every' && every !== undefined ? now + every : null;
  }

  #count(wake: Wake, outcome: 'woken' | 'running' | 'failed' | 'given_up'): void {
    this.#deps.activity.signals.emit({
      type: 'wake.finished',
      workload: wake.workload,
      trigger: wake.trigger,
      outcome,
    });
  }
}

function asksFor(workload: Workload, trigger: WakeTrigger): boolean {
  const wake = workload.spec.pool.wake;
  return trigger === 'schedule' ? wake?.atFile !== undefined : wake?.every !== undefined;
}

function keyOf(wake: Wake): string {
  return `${wake.workload}\u0000${wake.tenant}\u0000${wake.trigger}`;
}
