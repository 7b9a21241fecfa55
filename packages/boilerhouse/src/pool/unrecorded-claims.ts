/**
 * Claims the database does not record: an instance whose claim mark (claim-mark.ts) names a tenant while its
 * row says it is still creating, ready or being claimed, or while no row names it at all (a container of
 * this daemon, or a directory, that the database does not know). A database restored from a backup shows
 * exactly this for every instance claimed after the backup was taken, and such an instance holds its
 * tenant's writes since, saved nowhere: handing it out as ready would fail at its gate (ENXIO: the gate has
 * long opened) and destroy those writes; removing it as stray would too.
 *
 * Each becomes `failed`, held by its tenant (no other instance can be claimed for the tenant meanwhile), so
 * that DeadInstances saves its state from the host, as for a container that died, and then destroys it; the
 * tenant's next claim restores that save. When one tenant has several marks, the newest is the live
 * instance: a tenant is claimed only while no other instance of the workload holds it, so every other one
 * the database gives the tenant was being destroyed then, its state already saved, and its destroy is
 * finished here.
 */
import { inTransaction } from '../db/database.ts';
import {
  findTenantInstance,
  getInstance,
  type Instance,
  insertInstance,
  listInstances,
  type Phase,
  transition,
  updateInPhase,
} from '../db/instances.ts';
import type { ContainerSummary } from '../runtime/runtime.ts';
import { type ClaimMark, readClaimMark } from './claim-mark.ts';
import { LABEL } from './container-spec.ts';
import type { PoolDeps } from './deps.ts';

/** Phases whose row says no tenant's workload has run in the instance yet. */
const UNCLAIMED_PHASES: readonly Phase[] = ['creating', 'ready', 'claiming'];

export interface UnrecordedClaims {
  /** Instances now failed and held by the tenant their mark names, to be saved, then destroyed. */
  taken: number;
  /** Older instances of those tenants whose destroy was finished. */
  superseded: number;
}

/**
 * Finds unrecorded claims among the rows and `containers` (this daemon's) and the instance directories, and
 * hands each to its tenant as failed. `destroy` finishes the destroy of a superseded row.
 */
export async function takeUnrecordedClaims(
  deps: Pick<PoolDeps, 'db' | 'now' | 'files' | 'activity'>,
  containers: readonly ContainerSummary[],
  destroy: (instance: Instance, reason: string) => Promise<void>,
): Promise<UnrecordedClaims> {
  const rows = new Map(listInstances(deps.db).map((row) => [row.id, row]));
  const containerOf = new Map(
    containers.map((container) => [container.labels[LABEL.instance] ?? '', container]),
  );
  const candidates = new Set([
    ...[...rows.values()].filter((row) => UNCLAIMED_PHASES.includes(row.phase)).map((row) => row.id),
    ...[...containerOf.keys(), ...(await deps.files.list())].filter((id) => id !== '' && !rows.has(id)),
  ]);
  const marked: { id: string; mark: ClaimMark }[] = [];
  for (const id of candidates) {
    const mark = await readClaimMark(deps.files, id);
    if (mark !== undefined) marked.push({ id, mark });
  }
  // Newest first: the first mark of each tenant is its live instance.
  marked.sort((a, b) => b.mark.at - a.mark.at);
  const report: UnrecordedClaims = { taken: 0, superseded: 0 };
  const live = new Map<string, string>();
  for (const { id, mark } of marked) {
    const key = `${mark.workload}\0${mark.tenant}`;
    const newer = live.get(key);
    const row = getInstance(deps.db, id);
    if (newer !== undefined) {
      // Without a row it is stray, and removed as such by recovery.
      if (row !== undefined) {
        await destroy(row, `superseded: ${mark.tenant} was claimed again on ${newer}, its state saved first`);
        report.superseded++;
      }
      continue;
    }
    live.set(key, id);
    const other = findTenantInstance(deps.db, mark.workload, mark.tenant);
    if (other !== undefined && other.id !== id) {
      await destroy(
        other,
        `superseded: ${mark.tenant} was claimed on ${id} after this instance, its state saved first`,
      );
      report.superseded++;
    }
    const taken = take(deps, id, row, mark, containerOf.get(id)?.id ?? row?.containerId ?? null);
    if (taken === undefined) continue;
    report.taken++;
    const since = new Date(mark.at).toISOString();
    deps.activity.record(
      {
        type: 'instance.failed',
        workload: mark.workload,
        tenant: mark.tenant,
        instance: id,
        message: `instance ${id} holds ${mark.tenant}'s data since ${since}, though the database ${row === undefined ? 'does not know it' : `says it is ${row.phase}`} (a database restored from before that claim): its state is saved from the host, then it is destroyed, and ${mark.tenant}'s next claim restores that save`,
        data: { recorded: row?.phase ?? null, claimedAt: since, resumes: false },
      },
      'warn',
    );
  }
  return report;
}

/** The instance, failed and held by the mark's tenant; undefined when another actor moved its row first. */
function take(
  deps: Pick<PoolDeps, 'db' | 'now'>,
  id: string,
  row: Instance | undefined,
  mark: ClaimMark,
  containerId: string | null,
): Instance | undefined {
  const reason = `${mark.tenant} claimed it at ${new Date(mark.at).toISOString()}, which the database did not record`;
  const changes = { tenant: mark.tenant, claimedAt: mark.at, containerId, reason };
  if (row !== undefined) return transition(deps.db, id, row.phase, 'failed', deps.now(), changes);
  return inTransaction(deps.db, () => {
    insertInstance(deps.db, {
      id,
      workload: mark.workload,
      specHash: mark.specHash,
      phase: 'failed',
      tenant: mark.tenant,
      claimedAt: mark.at,
      now: deps.now(),
    });
    updateInPhase(deps.db, id, 'failed', { containerId, reason });
    return getInstance(deps.db, id);
  });
}
