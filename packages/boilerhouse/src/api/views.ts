/** The API's JSON shapes (snake_case), built from the daemon's own types; their schemas: view-schemas.ts. */
import { basename } from 'node:path';
import type { Problem } from '@boilerhouse/spec';
import type { PoolStatus } from '../admin/pools.ts';
import type { Boilerhouse } from '../boilerhouse.ts';
import type { ActivityEvent } from '../db/events.ts';
import type { GatewayLinkRecord } from '../db/gateway-links.ts';
import type { Instance } from '../db/instances.ts';
import type { ApiToken } from '../db/tokens.ts';
import type { Wake } from '../db/wakes.ts';
import type { ClaimResult, Endpoint } from '../pool/claims.ts';
import type { ReleaseResult } from '../pool/release.ts';
import type { UpgradeReport } from '../pool/upgrades.ts';
import type { WorkloadProblem } from '../pool/workload-problems.ts';
import type { Workload, WorkloadRegistry } from '../pool/workloads.ts';
import type { SecretNames } from '../secrets/index.ts';
import type { SaveSummary } from '../state/manifest.ts';
import type { DamagedSave, SaveResult } from '../state/snapshots.ts';
import type { Principal } from './auth.ts';

/** Formatted times, kept: listings format the same few thousand stable timestamps on every request. */
const isoTimes = new Map<number, string>();
const MAX_ISO_TIMES = 20_000;

function iso(ms: number | null): string | null {
  if (ms === null) return null;
  let text = isoTimes.get(ms);
  if (text === undefined) {
    if (isoTimes.size >= MAX_ISO_TIMES) isoTimes.clear();
    text = new Date(ms).toISOString();
    isoTimes.set(ms, text);
  }
  return text;
}

/** The workloads as loaded now: an instance of another version than its workload's is of an old one. */
export type Versions = Pick<WorkloadRegistry, 'get'>;

export function instanceView(
  instance: Instance,
  versions: Versions,
  { endpoints, idleReleaseAt }: { endpoints?: Endpoint[]; idleReleaseAt?: number | undefined } = {},
) {
  const current = versions.get(instance.workload)?.hash === instance.specHash;
  return {
    id: instance.id,
    workload: instance.workload,
    version: instance.specHash,
    version_status: current ? ('current' as const) : ('old' as const),
    phase: instance.phase,
    tenant: instance.tenant,
    container_id: instance.containerId,
    ...(endpoints === undefined ? {} : { endpoints }),
    reason: instance.reason,
    created_at: iso(instance.createdAt),
    phase_changed_at: iso(instance.phaseChangedAt),
    claimed_at: iso(instance.claimedAt),
    reserved_until: iso(instance.reservedUntil),
    ...(idleReleaseAt === undefined ? {} : { idle_release_at: iso(idleReleaseAt) }),
  };
}

export function claimView(result: ClaimResult, versions: Versions) {
  return {
    tenant: result.tenant,
    workload: result.workload,
    instance: instanceView(result.instance, versions),
    endpoints: result.endpoints,
    path: result.path,
    timings_ms: result.timingsMs,
  };
}

export function releaseView(result: ReleaseResult, versions: Versions) {
  return {
    tenant: result.tenant,
    workload: result.workload,
    outcome: result.outcome,
    instance: result.instance === null ? null : instanceView(result.instance, versions),
    timings_ms: result.timingsMs,
  };
}

export function poolView(pool: PoolStatus) {
  return {
    workload: pool.workload,
    version: pool.version,
    file: pool.file,
    removed: pool.removed,
    min_idle: pool.minIdle,
    max_size: pool.maxSize,
    /** What an operator set over the file's sizes (scale, drain). */
    scaled: {
      ...(pool.scaled.minIdle === undefined ? {} : { min_idle: pool.scaled.minIdle }),
      ...(pool.scaled.maxSize === undefined ? {} : { max_size: pool.scaled.maxSize }),
    },
    instances: pool.instances,
    old_version: pool.oldVersion,
    fill: {
      consecutive_failures: pool.fill.consecutiveFailures,
      last_error: pool.fill.lastError,
      last_error_at: iso(pool.fill.lastErrorAt),
      backoff_until: iso(pool.fill.backoffUntil),
    },
  };
}

export function eventView(event: ActivityEvent) {
  return { ...event, at: iso(event.at) };
}

export function tenantView(status: ReturnType<Boilerhouse['tenant']>, boilerhouse: Boilerhouse) {
  return {
    tenant: status.tenant,
    instances: status.instances.map((instance) =>
      instanceView(instance, boilerhouse.workloads, {
        endpoints: instance.endpoints,
        idleReleaseAt: boilerhouse.idleReleaseAt(instance),
      }),
    ),
    wakes: status.wakes.map(wakeView),
  };
}

export function upgradeView(report: UpgradeReport) {
  return {
    workload: report.workload,
    version: report.version,
    now: report.now,
    idle_old_instances: report.idle,
    tenants: report.tenants.map((move) => ({
      tenant: move.tenant,
      instance: move.instance,
      version: move.version,
      phase: move.phase,
      outcome: move.outcome,
      to: move.to,
      message: move.message,
    })),
  };
}

export function wakeView(wake: Wake) {
  return {
    workload: wake.workload,
    tenant: wake.tenant,
    trigger: wake.trigger,
    due_at: iso(wake.dueAt),
    set_at: iso(wake.setAt),
  };
}

export function saveView(save: SaveSummary) {
  return {
    seq: save.seq,
    created_at: save.createdAt,
    instance: save.instance,
    files: save.files,
    bytes: save.bytes,
  };
}

export function damagedSaveView(damaged: DamagedSave) {
  return {
    ...(damaged.seq === undefined ? {} : { seq: damaged.seq }),
    key: damaged.key,
    reason: damaged.reason,
  };
}

export function linkView(link: GatewayLinkRecord) {
  return {
    id: link.id,
    workload: link.workload,
    tenant: link.tenant,
    created_at: iso(link.createdAt),
    expires_at: iso(link.expiresAt),
  };
}

export function tokenView(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    scopes: token.scopes,
    tenants: token.tenants,
    workloads: token.workloads,
    created_at: iso(token.createdAt),
    expires_at: iso(token.expiresAt),
    last_used_at: iso(token.lastUsedAt),
  };
}

export function callerView(principal: Principal) {
  return {
    id: principal.id,
    name: principal.name,
    scopes: principal.scopes,
    tenants: principal.reach.tenants,
    workloads: principal.reach.workloads,
    expires_at: iso(principal.expiresAt),
  };
}

export function tenantSummaryView(entry: ReturnType<Boilerhouse['tenants']>[number]) {
  return {
    tenant: entry.tenant,
    instances: entry.instances.map((instance) => ({
      id: instance.id,
      workload: instance.workload,
      phase: instance.phase,
    })),
  };
}

export function syncView(
  tenant: string,
  workload: string,
  direction: 'upload',
  save: SaveResult | undefined,
) {
  return {
    tenant,
    workload,
    direction,
    save:
      save === undefined
        ? null
        : {
            seq: save.seq ?? null,
            changed: save.changed,
            files: save.files,
            uploaded_files: save.uploadedFiles,
            uploaded_bytes: save.uploadedBytes,
          },
  };
}

export function secretNamesView(tenant: string, names: SecretNames[]) {
  return {
    tenant,
    secrets: names.map((entry) => ({
      workload: entry.workload,
      keys: entry.keys,
      updated_at: iso(entry.updatedAt),
    })),
  };
}

function workloadIdentity(workload: Workload) {
  return {
    id: workload.id,
    name: workload.spec.name ?? workload.id,
    version: workload.hash,
    file: workload.file,
    removed: workload.removed,
  };
}

export function workloadView(workload: Workload) {
  return {
    ...workloadIdentity(workload),
    image: workload.spec.image,
    min_idle: workload.spec.pool.minIdle,
    max_size: workload.spec.pool.maxSize,
    keeps_state: workload.spec.sync !== undefined,
    takes_secrets: workload.spec.volumes.secrets !== undefined,
  };
}

/** What keeps a workload file from being served as written (pool/workload-problems.ts). */
export function workloadProblemView(problem: WorkloadProblem) {
  return {
    file: problem.file,
    workload: problem.workload,
    kind: problem.kind,
    message: problem.message,
    details: problem.details,
    since: iso(problem.since) as string,
  };
}

/** `problems`: what validating the file's current text says, each placed as `FILE:LINE:COL path`. */
export function workloadFileView(workload: Workload, source: string, problems: Problem[]) {
  const name = basename(workload.file);
  return {
    ...workloadIdentity(workload),
    source,
    problems: problems.map((problem) => ({
      path: `${name}:${problem.line}:${problem.column} ${problem.path}`,
      message: problem.message,
      severity: problem.severity,
    })),
  };
}
