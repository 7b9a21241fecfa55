/**
 * Start-up reconciliation of the database (domain state) with Docker (existence), for this daemon's own
 * containers only. Adopts what matches; finishes or rolls back transitions a crash interrupted; removes
 * containers and directories nothing names; keeps claimed instances running and reservations with the
 * time they have left. An instance whose container died while the daemon was down (a host reboot, an
 * engine restart) is marked failed, to be saved from the host and destroyed, and a claimed tenant claimed
 * again, by the loops that start next (pool/dead-instances.ts, pool/resumes.ts). Filtered Docker sockets are served again; containers started through the socket
 * of an instance that is gone are removed, and so are networks no instance names.
 *
 * The database may be older than the host, restored from a backup: an instance it calls ready (or does not
 * know) may have been claimed since, and holds that tenant's writes (pool/unrecorded-claims.ts: saved, then
 * destroyed); a tenant's instance it still lists may have been destroyed since, container and directories
 * gone with its state saved (its row goes, with nothing to save).
 */
import { lstat } from 'node:fs/promises';
import { getInstance, type Instance, listInstances, type Phase, transition } from '../db/instances.ts';
import type { ContainerSummary } from '../runtime/runtime.ts';
import { LABEL } from './container-spec.ts';
import type { DeadInstances } from './dead-instances.ts';
import type { PoolDeps } from './deps.ts';
import { instanceNetworkMode } from './instance-network.ts';
import { type DestroyDeps, destroyInstance, finishDestroy } from './lifecycle.ts';
import { deathOf } from './liveness.ts';
import { type SaveDeps, saveThenReserve } from './release.ts';
import type { TenantState } from './tenant-state.ts';
import { takeUnrecordedClaims } from './unrecorded-claims.ts';

/** Phases of an instance that has run a tenant's workload, and so has data to save from the host. */
const HOLDS_DATA: readonly Phase[] = ['claimed', 'releasing', 'release_failed', 'reserved', 'failed'];

export interface RecoveryReport {
  adopted: number;
  rolledBack: number;
  finished: number;
  failed: number;
  /** Of those failed: claimed after the database was saved (a restored backup), found by their claim mark. */
  unrecordedClaims: number;
  strayContainers: number;
  strayNetworks: number;
  strayDirectories: number;
}

export async function recover(
  deps: Pick<PoolDeps, 'db' | 'runtime' | 'daemonId' | 'workloads' | 'files' | 'proxies' | 'activity'> &
    DestroyDeps &
    SaveDeps,
  state: TenantState,
  dead: DeadInstances,
): Promise<RecoveryReport> {
  const report: RecoveryReport = {
    adopted: 0,
    rolledBack: 0,
    finished: 0,
    failed: 0,
    unrecordedClaims: 0,
    strayContainers: 0,
    strayNetworks: 0,
    strayDirectories: 0,
  };
  // Before anything is adopted: the host may have lost its rules since the instances were made.
  await deps.runtime.isolateNetworks();
  const containers = await deps.runtime.list({ [LABEL.daemon]: deps.daemonId });
  const byInstance = new Map(
    containers.map((container) => [container.labels[LABEL.instance] ?? '', container]),
  );
  const unrecorded = await takeUnrecordedClaims(deps, containers, (instance, reason) =>
    destroyAt(deps, instance, byInstance.get(instance.id), reason),
  );
  report.unrecordedClaims = unrecorded.taken;
  report.finished += unrecorded.superseded;
  const instances = listInstances(deps.db);

  for (const instance of instances) {
    const container = byInstance.get(instance.id);
    const alive =
      container !== undefined && (container.status === 'running' || container.status === 'paused');
    const workload = deps.workloads.get(instance.workload);
    if (!alive && HOLDS_DATA.includes(instance.phase) && !(await hasDirectory(deps, instance.id))) {
      // Nothing of it is left to save (a salvage would fail for ever, holding its tenant): it was destroyed
      // after the database was saved, its state saved first.
      await destroyAt(
        deps,
        instance,
        container,
        `its container and directories are gone (${deathOf(container)})`,
      );
      report.finished++;
      continue;
    }
    switch (instance.phase) {
      case 'creating':
      case 'claiming':
        // The claim or creation never completed (its caller saw an error): undo it.
        await destroyAt(deps, instance, container, `interrupted while ${instance.phase}`);
        report.rolledBack++;
        break;
      case 'destroying':
        await destroyAt(deps, instance, container, instance.reason ?? `interrupted while ${instance.phase}`);
        report.finished++;
        break;
      case 'failed':
        // Its data is saved (then it is destroyed) by the retries that start next; nothing of it is dropped here.
        if (instance.tenant === null) await destroyAt(deps, instance, container, instance.reason ?? 'failed');
        report.failed++;
        break;
      case 'releasing':
        if (!alive || workload === undefined) {
          await dead.died(
            instance,
            `${deathOf(container)} (lost while it was being released)`,
            container?.id ?? instance.containerId,
          );
          report.failed++;
        } else {
          // A failing save leaves it release_failed, retried like any other failed release.
          await saveThenReserve(deps, state, workload, instance).catch(() => undefined);
          report.finished++;
        }
        break;
      default:
        if (!alive) {
          await dead.died(instance, deathOf(container), container?.id ?? instance.containerId);
          report.failed++;
        } else if (
          instance.phase === 'ready' &&
          (workload === undefined || workload.hash !== instance.specHash)
        ) {
          await destroyInstance(deps, instance, 'ready', 'its workload changed while Boilerhouse was down');
          report.finished++;
        } else {
          report.adopted++;
        }
    }
  }

  const known = new Set(instances.map((instance) => instance.id));
  // A row made since the list was read (a claim, a fill) names its container: looked up again, not stray.
  const named = (id: string) => known.has(id) || getInstance(deps.db, id) !== undefined;
  for (const container of containers) {
    if (named(container.labels[LABEL.instance] ?? '')) continue;
    await deps.runtime.remove(container.id);
    report.strayContainers++;
  }
  const remaining = new Set(listInstances(deps.db).map((instance) => instance.id));
  await serveDockerSockets(deps);
  // After the children of gone instances, which would hold their networks.
  for (const network of await deps.runtime.listNetworks({ [LABEL.daemon]: deps.daemonId })) {
    const id = network.labels[LABEL.instance] ?? '';
    if (remaining.has(id) || named(id)) continue;
    await deps.runtime.removeNetwork(network.name);
    report.strayNetworks++;
  }
  for (const id of await deps.files.list()) {
    if (remaining.has(id) || named(id)) continue;
    await deps.proxies.releasePins(id);
    await deps.files.remove(id);
    report.strayDirectories++;
  }
  deps.activity.record({
    type: 'daemon.recovered',
    message: `recovered: ${report.adopted} adopted, ${report.rolledBack} rolled back, ${report.finished} finished, ${report.failed} failed, ${report.strayContainers} stray containers, ${report.strayNetworks} stray networks and ${report.strayDirectories} stray directories removed`,
    data: { ...report },
  });
  return report;
}

/**
 * Serves the filtered Docker socket of every instance left whose workload has one, in the directory its
 * container already mounts, and removes the containers of instances that are gone (or lost the block).
 */
async function serveDockerSockets(
  deps: Pick<PoolDeps, 'db' | 'daemonId' | 'workloads' | 'proxies'>,
): Promise<void> {
  const served = new Set<string>();
  for (const instance of listInstances(deps.db)) {
    const spec = deps.workloads.get(instance.workload)?.spec;
    if (spec?.docker === undefined) continue;
    await deps.proxies.open(instance.id, spec, instanceNetworkMode(spec, deps.daemonId, instance.id));
    served.add(instance.id);
  }
  await deps.proxies.removeOrphans(served);
}

/** Whether the instance's host directory is there (only ENOENT says it is not). */
async function hasDirectory(deps: Pick<PoolDeps, 'files'>, id: string): Promise<boolean> {
  try {
    await lstat(deps.files.dir(id));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Marks destroying (whatever the phase) and removes the container recovery actually found. */
async function destroyAt(
  deps: DestroyDeps,
  instance: Instance,
  container: ContainerSummary | undefined,
  reason: string,
) {
  const destroying = transition(deps.db, instance.id, instance.phase, 'destroying', deps.now(), {
    reason,
    containerId: container?.id ?? instance.containerId,
  });
  if (destroying !== undefined) await finishDestroy(deps, destroying);
}
