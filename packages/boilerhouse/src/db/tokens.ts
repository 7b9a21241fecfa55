/**
 * API tokens: `bh_<id>_<secret>`. Only the SHA-256 of the secret part is stored; the token itself is shown
 * once, when it is made. The secret has 256 random bits, so a fast hash cannot be brute-forced. A token may
 * be limited to some tenants and/or workloads (its reach; null: every one).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from './database.ts';

export interface ApiToken {
  id: string;
  name: string;
  scopes: string[];
  /** The only tenants it may act on and see; null: every tenant. */
  tenants: string[] | null;
  /** The only workloads it may act on and see; null: every workload. */
  workloads: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

interface Row {
  id: string;
  name: string;
  scopes: string;
  tenants: string | null;
  workloads: string | null;
  secret_hash: Uint8Array;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

const TOKEN = /^bh_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** The id and secret of a token string, or undefined when it is not shaped like one. */
export function splitToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN.exec(token);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

export function createToken(
  db: Database,
  options: {
    name: string;
    scopes: string[];
    /** Absent or null: every tenant (workload). */
    tenants?: string[] | null;
    workloads?: string[] | null;
    expiresAt: number | null;
    now: number;
  },
): { token: string; record: ApiToken } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const list = (ids: string[] | null | undefined) => (ids == null ? null : JSON.stringify(ids));
  db.prepare(
    `INSERT INTO api_tokens (id, name, scopes, tenants, workloads, secret_hash, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    options.name,
    JSON.stringify(options.scopes),
    list(options.tenants),
    list(options.workloads),
    hashSecret(secret),
    options.now,
    options.expiresAt,
  );
  return { token: `bh_${id}_${secret}`, record: fromRow(findRow(db, id) as Row) };
}

/** The token's record and stored hash, unless it is unknown or revoked. */
export function findToken(db: Database, id: string): { record: ApiToken; secretHash: Buffer } | undefined {
  const row = findRow(db, id);
  return row && { record: fromRow(row), secretHash: Buffer.from(row.secret_hash) };
}

/** Tokens not revoked, oldest first. */
export function listTokens(db: Database): ApiToken[] {
  const rows = db
    .prepare('SELECT * FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at, id')
    .all() as unknown as Row[];
  return rows.map(fromRow);
}

/** False when there is no such (unrevoked) token. */
export function revokeToken(db: Database, id: string, now: number): boolean {
  const result = db
    .prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
    .run(now, id);
  return Number(result.changes) === 1;
}

export function touchToken(db: Database, id: string, now: number): void {
  db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, id);
}

function findRow(db: Database, id: string): Row | undefined {
  return db.prepare('SELECT * FROM api_tokens WHERE id = ? AND revoked_at IS NULL').get(id) as
    | Row
    | undefined;
}

function fromRow(row: Row): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    tenants: row.tenants === null ? null : (JSON.parse(row.tenants) as string[]),
    workloads: row.workloads === null ? null : (JSON.parse(row.workloads) as string[]),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}
