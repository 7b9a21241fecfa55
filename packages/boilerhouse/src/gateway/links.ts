/**
 * Access links for the gateway's `auth: token` (db/gateway-links.ts keeps them): minting one answers the URL
 * that redeems it at the tenant's address (`<tenant address>/_boilerhouse/link?token=...`), shown once.
 * Minting and revoking wait for the socket host to know, so a revoked link stops working at once.
 */
import type { Boilerhouse } from '../boilerhouse.ts';
import type { Database } from '../db/database.ts';
import { createLink, type GatewayLinkRecord, listTenantLinks, revokeLink } from '../db/gateway-links.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { parseTenantId } from '../tenant.ts';

export interface MintedLink {
  record: GatewayLinkRecord;
  /** The URL that sets the tenant's cookie and redirects to its page; never shown again. */
  url: string;
}

export async function mintLink(
  boilerhouse: Boilerhouse,
  db: Database,
  request: { tenant: string; workload: string; expiresInSeconds?: number },
): Promise<MintedLink> {
  const tenant = parseTenantId(request.tenant);
  const workload = boilerhouse.workload(request.workload);
  const gateway = boilerhouse.gateway;
  if (workload.spec.gateway === undefined)
    throw new ConflictError(`workload ${workload.id} has no gateway block: it is not served at the gateway`);
  if (workload.spec.gateway.auth !== 'token')
    throw new ConflictError(`workload ${workload.id} authenticates its callers itself (gateway.auth: none)`);
  if (gateway === undefined) throw new ConflictError('this Boilerhouse serves no gateway');
  const now = Date.now();
  const expiresAt = request.expiresInSeconds === undefined ? null : now + request.expiresInSeconds * 1000;
  const { secret, record } = createLink(db, { workload: workload.id, tenant, expiresAt, now });
  await gateway.sync();
  const base = gateway.tenantUrl(workload.id, tenant);
  if (base === undefined) throw new ConflictError('the gateway is not listening yet; try again');
  return { record, url: `${base}/_boilerhouse/link?token=${secret}` };
}

export function tenantLinks(db: Database, tenant: string): GatewayLinkRecord[] {
  return listTenantLinks(db, parseTenantId(tenant), Date.now());
}

export async function revokeTenantLink(
  boilerhouse: Boilerhouse,
  db: Database,
  tenant: string,
  id: string,
  reaches: (workload: string) => boolean,
): Promise<void> {
  const own = tenantLinks(db, tenant).find((link) => link.id === id);
  // A link outside the caller's reach answers as an unknown one.
  if (own === undefined || !reaches(own.workload) || !revokeLink(db, own.tenant, id, Date.now()))
    throw new NotFoundError(`tenant ${tenant} has no link ${id}`);
  await boilerhouse.gateway?.sync();
}
