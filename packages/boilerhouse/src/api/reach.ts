/**
 * A token's reach: the tenants and workloads it is limited to (null: every one). Each route declares how
 * it is held to a reach (`Route.limitedBy`, required, so a new route cannot forget); `checkReach` enforces
 * the declaration before any handler runs, and list and stream handlers show only what `canSee` allows.
 *
 * A tenant or workload named in the request and outside the reach is refused with 403 naming the limit.
 * That answer depends only on the request and the token, never on whether the tenant exists, so it tells a
 * limited token nothing it did not know. An instance id is different (it would say that the instance
 * exists, and whose it is): one outside the reach answers as an unknown one does.
 */
import type { Instance } from '../db/instances.ts';
import { ForbiddenError, NotFoundError } from '../errors.ts';

export interface TokenReach {
  tenants: readonly string[] | null;
  workloads: readonly string[] | null;
}

export const EVERYWHERE: TokenReach = { tenants: null, workloads: null };

/** Where a request names something: `path.tenant`, `body.workload`, `query.workload`. */
export type Field = `${'path' | 'body' | 'query'}.${string}`;

export type LimitedBy =
  /** Acts on one tenant (and one workload, or shows the tenant's workloads filtered by the reach). */
  | { tenant: Field; workload: Field | 'filtered' }
  /** Acts on the instance named: its tenant and workload must be within the reach. */
  | { instance: Field }
  /**
   * Reads or changes a workload as a whole. `everyTenant`: it changes the workload for all its tenants,
   * so a token limited to tenants is refused.
   */
  | { workload: Field; everyTenant: boolean }
  /** A list or stream: the handler shows only what `canSee` / `reachesWorkload` allow. */
  | 'filtered'
  /** Refused to any limited token. */
  | 'unlimited'
  /** Holds nothing of any tenant or workload (health, the API's own description, the caller itself). */
  | 'none';

export function isLimited(reach: TokenReach): boolean {
  return reach.tenants !== null || reach.workloads !== null;
}

/** Whether something of this tenant and workload (either null when it has none) is within the reach. */
export function canSee(reach: TokenReach, of: { tenant: string | null; workload: string | null }): boolean {
  return (
    (reach.tenants === null || (of.tenant !== null && reach.tenants.includes(of.tenant))) &&
    reachesWorkload(reach, of.workload)
  );
}

export function reachesWorkload(reach: TokenReach, workload: string | null): boolean {
  return reach.workloads === null || (workload !== null && reach.workloads.includes(workload));
}

/** `tenants alice, bob and workloads echo`: the limit, as refusals name it. */
export function describeReach(reach: TokenReach): string {
  const parts = [
    reach.tenants === null ? undefined : `tenants ${reach.tenants.join(', ')}`,
    reach.workloads === null ? undefined : `workloads ${reach.workloads.join(', ')}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'nothing (every tenant and workload)' : parts.join(' and ');
}

export interface ReachInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

/** Throws ForbiddenError (or NotFoundError, for an instance) when the request goes beyond the reach. */
export function checkReach(
  reach: TokenReach,
  limitedBy: LimitedBy,
  input: ReachInput,
  findInstance: (id: string) => Instance | undefined,
): void {
  if (!isLimited(reach) || limitedBy === 'none' || limitedBy === 'filtered') return;
  const limit = `this token is limited to ${describeReach(reach)}`;
  if (limitedBy === 'unlimited') {
    throw new ForbiddenError(`${limit}; this route is only for tokens without a limit`);
  }
  if ('instance' in limitedBy) {
    const id = fieldValue(input, limitedBy.instance);
    const instance = id === undefined ? undefined : findInstance(id);
    if (instance === undefined || !canSee(reach, instance)) {
      throw new NotFoundError(`no instance ${id ?? ''} within this token's reach (${describeReach(reach)})`);
    }
    return;
  }
  if ('tenant' in limitedBy) {
    const tenant = fieldValue(input, limitedBy.tenant);
    if (reach.tenants !== null && (tenant === undefined || !reach.tenants.includes(tenant))) {
      throw new ForbiddenError(`${limitedBy.tenant}: ${limit}, not ${JSON.stringify(tenant)}`);
    }
    if (limitedBy.workload !== 'filtered') checkWorkload(reach, input, limitedBy.workload, limit);
    return;
  }
  checkWorkload(reach, input, limitedBy.workload, limit);
  if (limitedBy.everyTenant && reach.tenants !== null) {
    throw new ForbiddenError(`${limit}; this route changes the workload for every tenant`);
  }
}

/** Throws when a route declares a field it does not take (checked as the app is built). */
export function checkLimitedByFields(
  where: string,
  limitedBy: LimitedBy,
  takes: { params: string[]; query: string[]; body: string[] },
): void {
  if (typeof limitedBy === 'string') return;
  for (const field of Object.values(limitedBy)) {
    if (typeof field !== 'string' || field === 'filtered') continue;
    const [place, name] = field.split('.') as ['path' | 'query' | 'body', string];
    const names = place === 'path' ? takes.params : takes[place];
    if (!names.includes(name)) {
      throw new Error(`${where}: limitedBy names ${field}, which the route does not take`);
    }
  }
}

function checkWorkload(reach: TokenReach, input: ReachInput, field: Field, limit: string): void {
  const workload = fieldValue(input, field);
  if (reach.workloads !== null && (workload === undefined || !reach.workloads.includes(workload))) {
    throw new ForbiddenError(`${field}: ${limit}, not ${JSON.stringify(workload)}`);
  }
}

function fieldValue(input: ReachInput, field: Field): string | undefined {
  const [place, name] = field.split('.') as ['path' | 'query' | 'body', string];
  const from =
    place === 'path'
      ? input.params
      : place === 'query'
        ? input.query
        : (input.body as Record<string, unknown>);
  const value = typeof from === 'object' && from !== null ? from[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}
