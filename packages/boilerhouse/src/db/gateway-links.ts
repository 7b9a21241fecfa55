/**
 * Gateway access links: `bhl_<secret>` (256 random bits), shown once when made; only its SHA-256 is kept.
 * A link admits its holder to one tenant's address of one workload until it expires or is revoked.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from './database.ts';

export interface GatewayLinkRecord {
  id: string;
  workload: string;
  tenant: string;
  createdAt: number;
  expiresAt: number | null;
}

interface Row {
  id: string;
  workload: string;
  tenant: string;
  secret_hash: Uint8Array;
  created_at: number;
  expires_at: number | null;
}

export function linkSecretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function createLink(
  db: Database,
  options: { workload: string; tenant: string; expiresAt: number | null; now: number },
): { secret: string; record: GatewayLinkRecord } {
  const id = randomBytes(6).toString('hex');
  const secret = `bhl_${randomBytes(32).toString('base64url')}`;
  db.prepare(
    `INSERT INTO gateway_links (id, workload, tenant, secret_hash, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    options.workload,
    options.tenant,
    Buffer.from(linkSecretHash(secret), 'hex'),
    options.now,
    options.expiresAt,
  );
  return {
    secret,
    record: {
      id,
      workload: options.workload,
      tenant: options.tenant,
      createdAt: options.now,
      expiresAt: options.expiresAt,
    },
  };
}

/** The tenant's links that still admit (not revoked, not expired), oldest first. */
export function listTenantLinks(db: Database, tenant: string, now: number): GatewayLinkRecord[] {
  const rows = db
    .prepare(
      `SELECT * FROM gateway_links WHERE tenant = ? AND revoked_at IS NULL
       AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id`,
    )
    .all(tenant, now) as unknown as Row[];
  return rows.map(fromRow);
}

/** Every link that still admits, with its hash (hex): what the gateway is given. */
export function liveLinkHashes(db: Database, now: number): (GatewayLinkRecord & { hash: string })[] {
  const rows = db
    .prepare(
      'SELECT * FROM gateway_links WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
    )
    .all(now) as unknown as Row[];
  return rows.map((row) => ({ ...fromRow(row), hash: Buffer.from(row.secret_hash).toString('hex') }));
}

/** False when the tenant has no such unrevoked link. */
export function revokeLink(db: Database, tenant: string, id: string, now: number): boolean {
  const result = db
    .prepare('UPDATE gateway_links SET revoked_at = ? WHERE id = ? AND tenant = ? AND revoked_at IS NULL')
    .run(now, id, tenant);
  return Number(result.changes) === 1;
}

function fromRow(row: Row): GatewayLinkRecord {
  return {
    id: row.id,
    workload: row.workload,
    tenant: row.tenant,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
