/**
 * Watching instances after they are up. Docker is the truth for existence: an instance whose container is
 * gone or stopped died (pool/dead-instances.ts: saved from the host, then destroyed). A running workload's health test runs every `healthcheck.interval`; after
 * `retries` failures in a row the instance is unhealthy. Idle instances are replaced; a claimed one is
 * reported through an event and left to its tenant, never silently swapped.
 */
import { type Instance, listInstances } from '../db/instances.ts';
import { LABEL } from './container-spec.ts';
import type { DeadInstances } from './dead-instances.ts';
import type { PoolDeps } from './deps.ts';
import { type DestroyDeps, destroyInstance } from './lifecycle.ts';
import { agentRunner, checkHealth } from './readiness.ts';
import type { TenantState } from './tenant-state.ts';

/** Phases whose container must be up. Creating, claiming and releasing ones are watched by their actor. */
const WATCHED: readonly Instance['phase'][] = ['ready', 'claimed', 'reserved', 'release_failed'];

/** Why a container counts as dead, for the instance's reason. */
export function deathOf(container: { status: string } | undefined): string {
  return `its container is ${container?.status ?? 'gone'}`;
}

interface HealthRecord {
  lastCheckAt: number;
  failures: number;
  reported: boolean;
}

/** What the checks use themselves, and what destroying an unhealthy reservation uses. */
type LivenessDeps = Pick<
  PoolDeps,
  'db' | 'now' | 'runtime' | 'daemonId' | 'workloads' | 'files' | 'activity'
> &
  DestroyDeps;

export class Liveness {
  readonly #deps: LivenessDeps;
  readonly #state: TenantState;
  readonly #dead: DeadInstances;
  /** Runtime-only bookkeeping of health checks, by instance id. */
  readonly #health = new Map<string, HealthRecord>();

  constructor(deps: LivenessDeps, state: TenantState, dead: DeadInstances) {
    this.#deps = deps;
    this.#state = state;
    this.#dead = dead;
  }

  /** Finds the instances whose container vanished or stopped, and salvages them (all at once). */
  async checkExistence(): Promise<void> {
    const deps = this.#deps;
    const listedAt = deps.now();
    const containers = await deps.runtime.list({ [LABEL.daemon]: deps.daemonId });
    const byId = new Map(containers.map((container) => [container.id, container]));
    const salvages: Promise<boolean>[] = [];
    for (const instance of listInstances(deps.db)) {
      if (!WATCHED.includes(instance.phase) || instance.containerId === null) continue;
      // Reached its phase while the list was being taken: the list may not show its container yet.
      if (instance.phaseChangedAt >= listedAt) continue;
      const container = byId.get(instance.containerId);
      const alive =
        container !== undefined && (container.status === 'running' || container.status === 'paused');
      if (alive) continue;
      const failed = await this.#dead.died(instance, deathOf(container));
      if (failed !== undefined) salvages.push(this.#dead.salvage(failed));
    }
    await Promise.all(salvages);
  }

  /** Runs the health test of every running workload whose interval has come round. */
  async checkHealth(): Promise<void> {
    const deps = this.#deps;
    const now = deps.now();
    const watched = listInstances(deps.db).filter((instance) => {
      const spec = deps.workloads.get(instance.workload)?.spec;
      if (spec?.healthcheck === undefined || instance.containerId === null) return false;
      if (instance.phase === 'claimed' || instance.phase === 'release_failed') return true;
      return instance.phase === 'reserved' && spec.pool.reserve === 'run';
    });
    const watchedIds = new Set(watched.map((instance) => instance.id));
    for (const id of this.#health.keys()) if (!watchedIds.has(id)) this.#health.delete(id);
    await Promise.all(
      watched.map(async (instance) => {
        const spec = deps.workloads.get(instance.workload)?.spec;
        if (spec?.healthcheck === undefined) return;
        const record = this.#health.get(instance.id) ?? { lastCheckAt: now, failures: 0, reported: false };
        this.#health.set(instance.id, record);
        if (now - record.lastCheckAt < spec.healthcheck.interval) return;
        record.lastCheckAt = now;
        const run = agentRunner(deps.runtime, instance.containerId as string, deps.files.runDir(instance.id));
        const result = await checkHealth(run, spec.healthcheck);
        if (result.healthy) {
          record.failures = 0;
          record.reported = false;
          return;
        }
        record.failures++;
        deps.activity.signals.emit({ type: 'health.failed', workload: instance.workload });
        if (record.failures < spec.healthcheck.retries || record.reported) return;
        record.reported = true;
        await this.#unhealthy(instance, result.output);
      }),
    );
  }

  async #unhealthy(instance: Instance, output: string): Promise<void> {
    const deps = this.#deps;
    deps.activity.record(
      {
        type: 'instance.unhealthy',
        workload: instance.workload,
        tenant: instance.tenant,
        instance: instance.id,
        message: `instance ${instance.id} is unhealthy: ${output}`,
      },
      'warn',
    );
    if (instance.phase === 'reserved') {
      // Destroyed only once its state is saved; otherwise it stays reserved until its reservation ends.
      const saved = await this.#state.beforeDestroy(instance).then(
        () => true,
        () => false,
      );
      if (saved) await destroyInstance(deps, instance, 'reserved', 'unhealthy while reserved');
    }
  }
}
