/** The API's JSON shapes (snake_case), built from the daemon's own types. */
import type { Boilerhouse, PoolStatus } from '../boilerhouse.ts';
import type { ActivityEvent } from '../db/events.ts';
import type { Instance } from '../db/instances.ts';
import type { ApiToken } from '../db/tokens.ts';
import type { ClaimResult, Endpoint } from '../pool/claims.ts';
import type { ReleaseResult } from '../pool/release.ts';
import type { SaveSummary } from '../state/manifest.ts';

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

export function instanceView(instance: Instance, endpoints?: Endpoint[], idleReleaseAt?: number) {
  return {
    id: instance.id,
    workload: instance.workload,
    version: instance.specHash,
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

export function claimView(result: ClaimResult) {
  return {
    tenant: result.tenant,
    workload: result.workload,
    instance: instanceView(result.instance),
    endpoints: result.endpoints,
    path: result.path,
    timings_ms: result.timingsMs,
  };
}

export function releaseView(result: ReleaseResult) {
  return {
    tenant: result.tenant,
    workload: result.workload,
    outcome: result.outcome,
    instance: result.instance === null ? null : instanceView(result.instance),
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
      instanceView(instance, instance.endpoints, boilerhouse.idleReleaseAt(instance)),
    ),
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

export function tokenView(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    scopes: token.scopes,
    created_at: iso(token.createdAt),
    expires_at: iso(token.expiresAt),
    last_used_at: iso(token.lastUsedAt),
  };
}
