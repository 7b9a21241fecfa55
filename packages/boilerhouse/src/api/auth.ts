/**
 * Who may call the API: the admin key (from BOILERHOUSE_API_KEY, or generated on first start and shown
 * once), or a token an admin made, limited to its scopes and, if it was made so, to some tenants and
 * workloads (its reach: reach.ts, checked here for every route by the route's `limitedBy`). Secrets are compared as SHA-256 digests with
 * timingSafeEqual, so the time taken says nothing about how much of a guess was right.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { getInstance } from '../db/instances.ts';
import { findToken, hashSecret, splitToken, touchToken } from '../db/tokens.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { checkReach, EVERYWHERE, type LimitedBy, type ReachInput, type TokenReach } from './reach.ts';

export const SCOPES = ['read', 'tenants:claim', 'tenants:write', 'workloads:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_HELP: Record<Scope, string> = {
  read: 'every GET: pools, instances, tenants, saves, events, logs, metrics',
  'tenants:claim': 'claim and release',
  'tenants:write': 'manual saves, restoring a save, tenant secrets',
  'workloads:write': 'applying and deleting workloads, scaling and draining pools, destroying instances',
  admin: 'everything, including tokens',
};

export interface Principal {
  /** `admin` for the admin key (or with auth off), else the token's id. */
  id: string;
  /** The token's name; `admin key` for the admin key. */
  name: string;
  scopes: readonly string[];
  reach: TokenReach;
  expiresAt: number | null;
}

const ADMIN: Principal = {
  id: 'admin',
  name: 'admin key',
  scopes: ['admin'],
  reach: EVERYWHERE,
  expiresAt: null,
};

const MIN_KEY_LENGTH = 16;
/** last_used_at is written at most this often per token, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export class Auth {
  readonly #db: Database;
  /** Undefined when auth is off (loopback only). */
  readonly #adminKeyHash: Buffer | undefined;
  readonly #touched = new Map<string, number>();

  constructor(db: Database, adminKeyHash: Buffer | undefined) {
    this.#db = db;
    this.#adminKeyHash = adminKeyHash;
  }

  get enabled(): boolean {
    return this.#adminKeyHash !== undefined;
  }

  /** The caller of a request with this Authorization header; throws UnauthorizedError. */
  authenticate(header: string | undefined, now = Date.now()): Principal {
    if (this.#adminKeyHash === undefined) return ADMIN;
    if (header === undefined || header === '') {
      throw new UnauthorizedError('this route needs a token: send "Authorization: Bearer <token>"');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <token>"');
    const presented = match[1] as string;
    const parts = splitToken(presented);
    if (parts !== undefined) {
      const found = findToken(this.#db, parts.id);
      if (found === undefined || !timingSafeEqual(hashSecret(parts.secret), found.secretHash)) {
        throw new UnauthorizedError('the token is not valid (unknown, wrong or revoked)');
      }
      if (found.record.expiresAt !== null && found.record.expiresAt <= now) {
        throw new UnauthorizedError(`the token ${parts.id} expired`);
      }
      if (now - (this.#touched.get(parts.id) ?? 0) >= TOUCH_EVERY_MS) {
        this.#touched.set(parts.id, now);
        touchToken(this.#db, parts.id, now);
      }
      const { name, scopes, tenants, workloads, expiresAt } = found.record;
      return { id: parts.id, name, scopes, reach: { tenants, workloads }, expiresAt };
    }
    if (timingSafeEqual(hashSecret(presented), this.#adminKeyHash)) return ADMIN;
    throw new UnauthorizedError('the token is not valid (unknown, wrong or revoked)');
  }

  /** Throws ForbiddenError unless the caller holds `scope` (or admin). */
  authorize(principal: Principal, scope: Scope): void {
    if (principal.scopes.includes('admin') || principal.scopes.includes(scope)) return;
    throw new ForbiddenError(
      `this route needs the "${scope}" scope (${SCOPE_HELP[scope]}); the token has ${principal.scopes.join(', ') || 'none'}`,
    );
  }

  /** Throws unless the request stays within the caller's reach, as the route declares it is limited. */
  authorizeReach(principal: Principal, limitedBy: LimitedBy, input: ReachInput): void {
    checkReach(principal.reach, limitedBy, input, (id) => getInstance(this.#db, id));
  }
}

/**
 * The admin key's hash: from BOILERHOUSE_API_KEY, else the one kept in the database, else a new key
 * (returned as `generated`, to be shown once). A new key's hash is kept only when `keep` is called, once
 * the daemon is up and the key about to be shown: a start that fails never leaves a key nobody saw. With
 * BOILERHOUSE_AUTH=off there is none, which is refused unless the API listens on loopback only.
 */
export function adminKey(
  db: Database,
  env: Readonly<Record<string, string | undefined>>,
  host: string,
): { hash: Buffer | undefined; generated?: string; keep?: () => void } {
  const mode = env.BOILERHOUSE_AUTH ?? 'on';
  if (mode === 'off') {
    if (!isLoopback(host)) {
      throw new Error(
        `BOILERHOUSE_AUTH=off is refused on ${host}: without auth the API may listen on loopback only (127.0.0.1 or ::1)`,
      );
    }
    return { hash: undefined };
  }
  if (mode !== 'on') throw new Error(`BOILERHOUSE_AUTH must be "on" or "off", got ${JSON.stringify(mode)}`);
  const fromEnv = env.BOILERHOUSE_API_KEY;
  if (fromEnv !== undefined) {
    if (fromEnv.length < MIN_KEY_LENGTH || /\s/.test(fromEnv)) {
      throw new Error(`BOILERHOUSE_API_KEY must be at least ${MIN_KEY_LENGTH} characters, without spaces`);
    }
    return { hash: hashSecret(fromEnv) };
  }
  const row = db.prepare("SELECT value FROM meta WHERE key = 'admin_key_sha256'").get() as
    | { value: string }
    | undefined;
  if (row !== undefined) return { hash: Buffer.from(row.value, 'hex') };
  const generated = `bh_admin_${randomBytes(32).toString('base64url')}`;
  const hash = hashSecret(generated);
  const keep = () => {
    db.prepare("INSERT INTO meta (key, value) VALUES ('admin_key_sha256', ?)").run(hash.toString('hex'));
  };
  return { hash, generated, keep };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
