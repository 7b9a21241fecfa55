/**
 * The fill loop: keeps `min_idle` ready instances of each workload's current version (never more than
 * `max_size` in all), replaces ready instances of an older version, and has reservations of an older
 * version saved and ended (pool/upgrades.ts). A failure backs off exponentially and shows on the pool's
 * status instead of spinning.
 */
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import { formatDuration } from '@boilerhouse/spec';
import { countByPhase, listInstances, transition } from '../db/instances.ts';
import type { PoolDeps } from './deps.ts';
import {
  type DestroyDeps,
  destroyInstance,
  reserveSlot,
  type SlotDeps,
  type StartDeps,
  startContainer,
} from './lifecycle.ts';
import { isOldVersion, type Upgrades } from './upgrades.ts';
import type { Workload } from './workloads.ts';

/** Between failed creates of one pool; the pool keeps trying for as long as it is short (its status says so). */
const FILL_BACKOFF: Backoff = { firstMs: 1_000, longestMs: 60_000, jitter: 0.2 };
/** Instances one pool creates at once: container starts are CPU-bound in the engine. */
const PARALLEL_CREATES = 2;
/**
 * Longest a short pool waits for the claims under way before it creates anyway: a container start
 * competes with a claim's restore and its workload's boot (on 2 cores, a warm NanoClaw claim took 156 ms
 * p50 with a refill beside it, 120 ms without), but a steady stream of claims must not starve the pool.
 */
const CLAIMS_FIRST_MS = 1_000;

export interface FillStatus {
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: number | null;
  backoffUntil: number | null;
}

/** What the fill uses itself, and what making (a slot, a start) and destroying instances use. */
type FillDeps = Pick<PoolDeps, 'db' | 'now' | 'workloads' | 'activity' | 'log' | 'track'> &
  SlotDeps &
  StartDeps &
  DestroyDeps;

export class Filler {
  readonly #deps: FillDeps;
  readonly #upgrades: Pick<Upgrades, 'replaceReservations'>;
  /** Runtime-only: how filling has gone lately, per workload. Not domain state, so not in the DB. */
  readonly #status = new Map<string, FillStatus>();
  /** Replacements of old reservations under way, per workload: their saves never hold up filling. */
  readonly #replacing = new Map<string, Promise<void>>();
  /** How many claims are being activated; each kicks the fill loop when it ends. */
  readonly #claimsUnderWay: () => number;
  /** Since when each short pool has been held back for claims. */
  readonly #heldSince = new Map<string, number>();

  constructor(deps: FillDeps, upgrades: Pick<Upgrades, 'replaceReservations'>, claimsUnderWay: () => number) {
    this.#deps = deps;
    this.#upgrades = upgrades;
    this.#claimsUnderWay = claimsUnderWay;
  }

  /** Why the pool cannot create instances now (it is backing off), or undefined when it can. */
  problem(workload: string): string | undefined {
    const status = this.status(workload);
    if (status.consecutiveFailures === 0) return undefined;
    return `${status.consecutiveFailures} creation(s) failed in a row: ${status.lastError}`;
  }

  status(workload: string): FillStatus {
    return (
      this.#status.get(workload) ?? {
        consecutiveFailures: 0,
        lastError: null,
        lastErrorAt: null,
        backoffUntil: null,
      }
    );
  }

  /** One pass over every pool. */
  async fillOnce(): Promise<void> {
    await Promise.all(this.#deps.workloads.list().map((workload) => this.#fill(workload)));
  }

  async #fill(workload: Workload): Promise<void> {
    const deps = this.#deps;
    const stale = listInstances(deps.db, { workload: workload.id, phase: 'ready' }).filter(
      (instance) => workload.removed || isOldVersion(workload, instance),
    );
    for (const instance of stale) {
      const reason = workload.removed ? 'its workload was removed' : `replaced by version ${workload.hash}`;
      await destroyInstance(deps, instance, 'ready', reason);
    }
    if (workload.removed) {
      const counts = countByPhase(deps.db, workload.id);
      if (Object.values(counts).every((count) => count === 0)) deps.workloads.forget(workload.id);
      return;
    }
    this.#replaceReservations(workload);
    await this.#trim(workload);
    const status = this.status(workload.id);
    if (status.backoffUntil !== null && deps.now() < status.backoffUntil) return;
    const counts = countByPhase(deps.db, workload.id, workload.hash);
    const missing = workload.spec.pool.minIdle - counts.ready - counts.creating;
    if (missing <= 0) this.#heldSince.delete(workload.id);
    else if (this.#holdForClaims(workload.id)) return;
    for (let started = 0; started < missing; started += PARALLEL_CREATES) {
      const batch = Math.min(PARALLEL_CREATES, missing - started);
      const results = await Promise.all(Array.from({ length: batch }, () => this.#createOne(workload)));
      if (results.some((created) => !created)) return;
    }
  }

  /** Whether this pass leaves the short pool be, for the claims under way (at most CLAIMS_FIRST_MS). */
  #holdForClaims(workload: string): boolean {
    const now = this.#deps.now();
    if (this.#claimsUnderWay() === 0) {
      this.#heldSince.delete(workload);
      return false;
    }
    const since = this.#heldSince.get(workload) ?? now;
    if (now - since >= CLAIMS_FIRST_MS) {
      this.#heldSince.delete(workload);
      return false;
    }
    this.#heldSince.set(workload, since);
    return true;
  }

  /** Starts a pass over the workload's reservations of an old version, unless one is under way. */
  #replaceReservations(workload: Workload): void {
    if (this.#replacing.has(workload.id)) return;
    const pass = this.#deps
      .track(this.#upgrades.replaceReservations(workload))
      .catch((error: Error) =>
        this.#deps.log.warn(
          { workload: workload.id, error: error.message },
          'replacing old reservations failed',
        ),
      )
      .finally(() => this.#replacing.delete(workload.id));
    this.#replacing.set(workload.id, pass);
  }

  /**
   * A pool scaled down gives back its idle instances: ready ones beyond `min_idle`, or beyond what
   * `max_size` leaves room for, newest first. Tenants' instances are never trimmed; claims evict
   * reservations when they need the room.
   */
  async #trim(workload: Workload): Promise<void> {
    const deps = this.#deps;
    const { minIdle, maxSize } = workload.spec.pool;
    const ready = listInstances(deps.db, { workload: workload.id, phase: 'ready' });
    const total = Object.values(countByPhase(deps.db, workload.id)).reduce((sum, n) => sum + n, 0);
    const excess = Math.min(ready.length, Math.max(ready.length - minIdle, total - maxSize, 0));
    if (excess === 0) return;
    const reason = `the pool was scaled down (min_idle ${minIdle}, max_size ${maxSize})`;
    for (const instance of ready.slice(ready.length - excess)) {
      await destroyInstance(deps, instance, 'ready', reason);
    }
  }

  /** Creates one ready instance; false when the pool is full or creation failed. */
  async #createOne(workload: Workload): Promise<boolean> {
    const deps = this.#deps;
    const slot = reserveSlot(deps, workload, { phase: 'creating' });
    if (slot === undefined) return false;
    const began = performance.now();
    try {
      const started = await deps.track(startContainer(deps, workload, slot));
      const ready = transition(deps.db, started.id, 'creating', 'ready', deps.now());
      if (ready === undefined) return false;
      this.#status.set(workload.id, {
        consecutiveFailures: 0,
        lastError: null,
        lastErrorAt: null,
        backoffUntil: null,
      });
      deps.activity.record({
        type: 'instance.ready',
        workload: workload.id,
        instance: ready.id,
        message: `instance ${ready.id} ready in ${Math.round(performance.now() - began)}ms`,
        data: { ms: Math.round(performance.now() - began) },
      });
      return true;
    } catch (error) {
      const failures = this.status(workload.id).consecutiveFailures + 1;
      const backoff = backoffDelay(FILL_BACKOFF, failures);
      const message = (error as Error).message;
      this.#status.set(workload.id, {
        consecutiveFailures: failures,
        lastError: message,
        lastErrorAt: deps.now(),
        backoffUntil: deps.now() + backoff,
      });
      deps.activity.record(
        {
          type: 'pool.warning',
          workload: workload.id,
          message: `pool ${workload.id} could not create an instance (${failures} in a row; next try in ${formatDuration(backoff)}): ${message}`,
          data: { failures, backoffMs: backoff },
        },
        'warn',
      );
      return false;
    }
  }
}
