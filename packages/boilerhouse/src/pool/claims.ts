/**
 * Claim(tenant, workload): the tenant's instance, by the cheapest path that has one.
 *
 *   hit   the tenant's reserved instance is taken back: no restart, no state download
 *   warm  a ready instance (started behind its gate) gets the tenant's state, then its gate opens
 *   cold  below max_size, a new instance is created for the tenant
 *   full  the oldest reservation of another tenant is evicted to make room, then cold
 *
 * Idempotent: a claim for a tenant that has (or is getting) an instance returns that instance.
 */

import { crashPoint } from '../crash-points.ts';
import {
  findTenantInstance,
  getInstance,
  type Instance,
  oldestReservation,
  takeReadyInstance,
  transition,
} from '../db/instances.ts';
import { BoilerhouseError, InstanceFailedError, PoolExhaustedError } from '../errors.ts';
import { markClaimed } from './claim-mark.ts';
import type { DeadInstances } from './dead-instances.ts';
import type { PoolDeps } from './deps.ts';
import {
  type DestroyDeps,
  destroyInstance,
  finishDestroy,
  reserveSlot,
  type SlotDeps,
  type StartDeps,
  startContainer,
} from './lifecycle.ts';
import { type HookDeps, runLifecycleHooks } from './lifecycle-hooks.ts';
import { agentRunner, readinessDeadlineMs, waitUntilReady } from './readiness.ts';
import type { TenantState } from './tenant-state.ts';
import type { Workload } from './workloads.ts';

export type ClaimPath = 'hit' | 'warm' | 'cold';

export interface Endpoint {
  port: number;
  url: string;
}

export interface ClaimResult {
  tenant: string;
  workload: string;
  instance: Instance;
  endpoints: Endpoint[];
  path: ClaimPath;
  /** Milliseconds per step (pick, restore, gate, ready = port + health, ...) and in total. */
  timingsMs: Timings;
}

export type Timings = Record<string, number> & { total: number };

/** How long a caller is told to wait before retrying an exhausted pool. */
const RETRY_AFTER_SECONDS = 5;
/** Gives up after this many rounds of losing races for instances (each round, someone else won). */
const MAX_ROUNDS = 8;

/**
 * How long the start message waits for its reader: the gate opens the FIFO as its container starts; a
 * workload that boots ahead opens it once its code is loaded, which a cold claim waits for.
 */
function gateTimeoutMs(workload: Workload): number {
  return workload.spec.pool.boot === 'ahead' ? readinessDeadlineMs(workload.spec.healthcheck) : 5_000;
}

/** Longest wait for a tenant's instance to leave a transitional phase before a claim gives up. */
const MOVING_WAIT_MS = 120_000;

async function waitWhileMoving(deps: Pick<PoolDeps, 'db'>, instance: Instance): Promise<void> {
  const deadline = Date.now() + MOVING_WAIT_MS;
  while (
    findTenantInstance(deps.db, instance.workload, instance.tenant as string)?.phase === instance.phase
  ) {
    if (Date.now() > deadline) {
      throw new InstanceFailedError(
        `instance ${instance.id} has been ${instance.phase} for too long; try again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Where each port of the instance is reached: the address its container was published on, or
 * `publishHost` when that is every address (0.0.0.0, ::) or was not kept (instances made before).
 */
export function endpointsOf(instance: Instance, publishHost: string): Endpoint[] {
  return instance.ports.map(({ port, hostPort, hostIp }) => {
    const address =
      hostIp === undefined || hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::' ? publishHost : hostIp;
    const host = address.includes(':') ? `[${address}]` : address;
    return { port, url: `http://${host}:${hostPort}` };
  });
}

class Stopwatch {
  readonly timings: Record<string, number> = {};
  readonly #start = performance.now();
  #last = this.#start;

  lap(step: string): void {
    const now = performance.now();
    this.timings[step] = round(now - this.#last);
    this.#last = now;
  }

  done(): Timings {
    return { ...this.timings, total: round(performance.now() - this.#start) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** What a claim uses itself, and what the steps it takes (a new slot, a start, a destroy, hooks) use. */
type ClaimDeps = Pick<
  PoolDeps,
  'db' | 'now' | 'runtime' | 'files' | 'activity' | 'publishHost' | 'kickFill' | 'writeSecrets' | 'track'
> &
  SlotDeps &
  StartDeps &
  DestroyDeps &
  HookDeps;

export class Claims {
  readonly #deps: ClaimDeps;
  readonly #state: TenantState;
  readonly #dead: DeadInstances;
  /** Claims under way, by workload and tenant, so that concurrent claims share one result. */
  readonly #inflight = new Map<string, Promise<ClaimResult>>();
  #activating = 0;

  constructor(deps: ClaimDeps, state: TenantState, dead: DeadInstances) {
    this.#deps = deps;
    this.#state = state;
    this.#dead = dead;
  }

  claim(workload: Workload, tenant: string): Promise<ClaimResult> {
    const key = `${workload.id}\u0000${tenant}`;
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const claim = this.#deps
      .track(this.#claim(workload, tenant))
      .catch((error: unknown) => {
        const code = error instanceof BoilerhouseError ? error.code : 'internal';
        this.#deps.activity.signals.emit({ type: 'claim.failed', workload: workload.id, code });
        throw error;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, claim);
    return claim;
  }

  /** The claim under way for this tenant, if any. */
  pending(workload: string, tenant: string): Promise<ClaimResult> | undefined {
    return this.#inflight.get(`${workload}\u0000${tenant}`);
  }

  async #claim(workload: Workload, tenant: string): Promise<ClaimResult> {
    const deps = this.#deps;
    const clock = new Stopwatch();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const own = findTenantInstance(deps.db, workload.id, tenant);
      if (own?.phase === 'claimed') {
        const result = this.#result(own, 'hit', clock);
        const seconds = result.timingsMs.total / 1000;
        deps.activity.signals.emit({ type: 'claim.repeated', workload: workload.id, seconds });
        return result;
      }
      if (own?.phase === 'release_failed') {
        // Its release could not save; the tenant is back, so it is simply theirs again (data intact).
        const back = transition(deps.db, own.id, 'release_failed', 'claimed', deps.now(), { reason: null });
        if (back !== undefined) return this.#finish(back, 'hit', clock);
        continue;
      }
      if (own?.phase === 'failed') {
        // Its container died: its data is saved before anything else of the tenant's is started.
        if (!(await this.#dead.salvage(own))) {
          const reason = getInstance(deps.db, own.id)?.reason ?? 'no reason recorded';
          throw new InstanceFailedError(
            `${tenant}'s instance ${own.id} of ${workload.id} died and is kept until its state is saved (${reason}): claim again later`,
          );
        }
        round--;
        continue;
      }
      if (own?.phase === 'reserved') {
        const hit = await this.#takeBack(workload, own, clock);
        if (hit !== undefined) return hit;
        continue;
      }
      if (own !== undefined) {
        // A release of this tenant's instance is finishing (saving its state): wait for it, then take it back.
        await waitWhileMoving(deps, own);
        round--;
        continue;
      }

      const ready = takeReadyInstance(deps.db, workload.id, workload.hash, tenant, deps.now());
      clock.lap('pick');
      if (ready !== undefined) return this.#activate(workload, ready, 'warm', clock);
      const fresh = reserveSlot(deps, workload, { phase: 'claiming', tenant });
      if (fresh !== undefined) return this.#cold(workload, fresh, clock);
      const victim = oldestReservation(deps.db, workload.id, tenant);
      if (victim === undefined) {
        throw new PoolExhaustedError(workload.id, workload.spec.pool.maxSize, RETRY_AFTER_SECONDS);
      }
      // Its state is saved first; if that fails, the reservation stays and the pool is full.
      await this.#state.beforeDestroy(victim).catch((error: Error) => {
        throw new PoolExhaustedError(workload.id, workload.spec.pool.maxSize, RETRY_AFTER_SECONDS, error);
      });
      const evicted = transition(deps.db, victim.id, 'reserved', 'destroying', deps.now(), {
        reason: 'evicted to make room for another tenant',
      });
      if (evicted === undefined) continue; // its tenant took it back meanwhile
      // The room made is this claim's: its row takes the slot before the fill loop can see it free.
      const replacement = reserveSlot(deps, workload, { phase: 'claiming', tenant, replacing: victim.id });
      await finishDestroy(deps, evicted);
      clock.lap('evict');
      if (replacement !== undefined) return this.#cold(workload, replacement, clock);
    }
    throw new PoolExhaustedError(workload.id, workload.spec.pool.maxSize, RETRY_AFTER_SECONDS);
  }

  /** Cold: the container of a freshly reserved row is created and started, then activated. */
  async #cold(workload: Workload, fresh: Instance, clock: Stopwatch): Promise<ClaimResult> {
    const started = await startContainer(this.#deps, workload, fresh).catch((error: Error) => {
      throw new InstanceFailedError(`could not start an instance of ${workload.id}: ${error.message}`, {
        cause: error,
      });
    });
    clock.lap('create');
    return this.#activate(workload, started, 'cold', clock);
  }

  /** A hit: the tenant's reserved instance, still running (or paused), is theirs again. */
  async #takeBack(
    workload: Workload,
    reserved: Instance,
    clock: Stopwatch,
  ): Promise<ClaimResult | undefined> {
    const deps = this.#deps;
    const claiming = transition(deps.db, reserved.id, 'reserved', 'claiming', deps.now(), {
      reservedUntil: null,
    });
    if (claiming === undefined) return undefined;
    if (workload.spec.pool.reserve === 'pause' && claiming.containerId !== null) {
      const unpaused = await deps.runtime.unpause(claiming.containerId).then(
        () => true,
        (error: Error) => this.#dropUnpausable(claiming, reserved.reservedUntil, error),
      );
      if (!unpaused) return undefined;
      clock.lap('unpause');
    }
    const claimed = transition(deps.db, claiming.id, 'claiming', 'claimed', deps.now(), {
      claimedAt: deps.now(),
    });
    if (claimed === undefined) return undefined;
    return this.#finish(claimed, 'hit', clock);
  }

  /**
   * A reserved instance that cannot be unpaused is never handed over frozen. A paused reservation cannot
   * have written since its release saved it, but it is saved again (if changed) before it goes; the
   * claim then goes on to a warm or cold instance with that save. If the save fails, the reservation
   * stays as it was and the claim fails, naming both errors.
   */
  async #dropUnpausable(
    claiming: Instance,
    reservedUntil: Instance['reservedUntil'],
    unpauseError: Error,
  ): Promise<false> {
    const deps = this.#deps;
    const reason = `could not unpause: ${unpauseError.message}`;
    try {
      await this.#state.beforeDestroy(claiming);
    } catch (saveError) {
      transition(deps.db, claiming.id, 'claiming', 'reserved', deps.now(), { reason, reservedUntil });
      throw new InstanceFailedError(
        `instance ${claiming.id} ${reason}, and saving it first failed: ${(saveError as Error).message}`,
        { cause: saveError },
      );
    }
    await destroyInstance(deps, claiming, 'claiming', reason);
    return false;
  }

  /** Instances being handed to their tenants now: the fill loop starts no container meanwhile (fill.ts). */
  get activating(): number {
    return this.#activating;
  }

  async #activate(
    workload: Workload,
    instance: Instance,
    path: ClaimPath,
    clock: Stopwatch,
  ): Promise<ClaimResult> {
    this.#activating += 1;
    try {
      return await this.#bringUp(workload, instance, path, clock);
    } finally {
      this.#activating -= 1;
      // The refill the fill loop held back: a container start meanwhile would have competed with the claim.
      this.#deps.kickFill();
    }
  }

  /**
   * Warm and cold: restore the tenant's state into the instance, open its gate so the workload's process
   * starts, wait until it is ready, and hand it over. A failure destroys the instance.
   */
  async #bringUp(
    workload: Workload,
    instance: Instance,
    path: ClaimPath,
    clock: Stopwatch,
  ): Promise<ClaimResult> {
    const deps = this.#deps;
    const tenant = instance.tenant as string;
    try {
      crashPoint('claim.taken');
      await this.#state.restore(instance, workload, tenant);
      await deps.writeSecrets(instance.id, workload, tenant);
      clock.lap('restore');
      crashPoint('claim.restored');
      // From here on the instance holds the tenant's data, whatever the database says later (a restore).
      await markClaimed(deps.files, instance, deps.now());
      await deps.files.openGate(
        instance.id,
        { BOILERHOUSE_TENANT: tenant, BOILERHOUSE_INSTANCE: instance.id },
        gateTimeoutMs(workload),
      );
      clock.lap('gate');
      crashPoint('claim.opened');
      const ready = await waitUntilReady(
        deps.runtime,
        {
          containerId: instance.containerId as string,
          address: instance.address,
          ports: workload.spec.expose,
        },
        workload.spec.healthcheck,
        agentRunner(deps.runtime, instance.containerId as string, deps.files.runDir(instance.id)),
      );
      clock.lap('ready');
      clock.timings.port = round(ready.port);
      clock.timings.health = round(ready.health);
      if (workload.spec.hooks.postClaim.length > 0) {
        await runLifecycleHooks(deps, instance, workload.spec.hooks.postClaim, 'post_claim');
        clock.lap('hooks');
      }
    } catch (error) {
      await destroyInstance(deps, instance, 'claiming', `claim failed: ${(error as Error).message}`);
      if (error instanceof BoilerhouseError) throw error;
      throw new InstanceFailedError(
        `instance ${instance.id} of ${workload.id} did not become ready: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const claimed = transition(deps.db, instance.id, 'claiming', 'claimed', deps.now(), {
      claimedAt: deps.now(),
    });
    if (claimed === undefined) {
      throw new InstanceFailedError(`instance ${instance.id} was destroyed while it was being claimed`);
    }
    return this.#finish(claimed, path, clock);
  }

  /** Records the claim and returns its result. */
  #finish(instance: Instance, path: ClaimPath, clock: Stopwatch): ClaimResult {
    const result = this.#result(instance, path, clock);
    this.#deps.activity.record({
      type: 'instance.claimed',
      workload: instance.workload,
      tenant: instance.tenant,
      instance: instance.id,
      message: `${instance.tenant} claimed ${instance.id} (${path}) in ${result.timingsMs.total}ms`,
      data: { path, timingsMs: result.timingsMs },
    });
    return result;
  }

  #result(instance: Instance, path: ClaimPath, clock: Stopwatch): ClaimResult {
    return {
      tenant: instance.tenant as string,
      workload: instance.workload,
      instance,
      endpoints: endpointsOf(instance, this.#deps.publishHost),
      path,
      timingsMs: clock.done(),
    };
  }
}
