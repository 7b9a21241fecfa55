/**
 * Tenant secret rows: one sealed set of values per (tenant, workload). Only ciphertext reaches SQL; sealing
 * and opening happen in src/secrets/, which holds the key.
 */
import type { Database } from './database.ts';

/** What is stored: AES-256-GCM output, the sorted names and a fingerprint of the key that sealed it. */
export interface SealedSecrets {
  keys: string[];
  keyId: string;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export interface SecretsRow extends SealedSecrets {
  tenant: string;
  workload: string;
  updatedAt: number;
}

/** A workload's secret names for a tenant, without values. */
export interface SecretNames {
  workload: string;
  keys: string[];
  updatedAt: number;
}

interface Row {
  tenant: string;
  workload: string;
  keys: string;
  key_id: string;
  nonce: Uint8Array;
  tag: Uint8Array;
  ciphertext: Uint8Array;
  updated_at: number;
}

/** Stores the tenant's secrets for the workload, replacing any there were. */
export function putSecrets(
  db: Database,
  tenant: string,
  workload: string,
  sealed: SealedSecrets,
  now: number,
): void {
  db.prepare(
    `INSERT INTO tenant_secrets (tenant, workload, keys, key_id, nonce, tag, ciphertext, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant, workload) DO UPDATE SET keys = excluded.keys, key_id = excluded.key_id,
       nonce = excluded.nonce, tag = excluded.tag, ciphertext = excluded.ciphertext,
       updated_at = excluded.updated_at`,
  ).run(
    tenant,
    workload,
    JSON.stringify(sealed.keys),
    sealed.keyId,
    sealed.nonce,
    sealed.tag,
    sealed.ciphertext,
    now,
  );
}

export function getSecrets(db: Database, tenant: string, workload: string): SecretsRow | undefined {
  const row = db
    .prepare('SELECT * FROM tenant_secrets WHERE tenant = ? AND workload = ?')
    .get(tenant, workload) as Row | undefined;
  return row === undefined ? undefined : fromRow(row);
}

/** Deletes the tenant's secrets for the workload; whether there were any. */
export function deleteSecrets(db: Database, tenant: string, workload: string): boolean {
  const result = db
    .prepare('DELETE FROM tenant_secrets WHERE tenant = ? AND workload = ?')
    .run(tenant, workload);
  return Number(result.changes) > 0;
}

/** The tenant's secret names per workload, by workload; never reads the ciphertext. */
export function listSecretNames(db: Database, tenant: string): SecretNames[] {
  const rows = db
    .prepare('SELECT workload, keys, updated_at FROM tenant_secrets WHERE tenant = ? ORDER BY workload')
    .all(tenant) as { workload: string; keys: string; updated_at: number }[];
  return rows.map((row) => ({
    workload: row.workload,
    keys: JSON.parse(row.keys) as string[],
    updatedAt: row.updated_at,
  }));
}

function fromRow(row: Row): SecretsRow {
  return {
    tenant: row.tenant,
    workload: row.workload,
    keys: JSON.parse(row.keys) as string[],
    keyId: row.key_id,
    nonce: asBuffer(row.nonce),
    tag: asBuffer(row.tag),
    ciphertext: asBuffer(row.ciphertext),
    updatedAt: row.updated_at,
  };
}

// node:sqlite returns BLOBs as Uint8Array; a Buffer view shares its memory.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
