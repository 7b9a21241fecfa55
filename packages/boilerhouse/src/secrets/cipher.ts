/**
 * AES-256-GCM sealing of a tenant's secret values. The additional authenticated data binds a sealed set to
 * its tenant, workload and names: a row copied to another tenant or workload, or with its names changed,
 * fails to open.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { SealedSecrets } from '../db/secrets.ts';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// Versioned, so a later format can never be mistaken for this one.
const AAD_LABEL = 'boilerhouse/tenant-secrets/v1';

/** The row could not be opened: another key sealed it, or it was altered or moved. */
export class SecretsDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsDecryptError';
  }
}

/** A fingerprint of the key: shows which key sealed a row without revealing anything about the key. */
export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('boilerhouse secret key id').digest('hex').slice(0, 16);
}

/** Seals `values` (names sorted) for the tenant and workload, under a fresh random nonce. */
export function sealValues(
  key: Buffer,
  tenant: string,
  workload: string,
  values: Record<string, string>,
): SealedSecrets {
  const keys = Object.keys(values).sort();
  const sorted = Object.fromEntries(keys.map((name) => [name, values[name]]));
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(tenant, workload, keys));
  const plaintext = Buffer.from(JSON.stringify(sorted), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return { keys, keyId: keyId(key), nonce, tag: cipher.getAuthTag(), ciphertext };
}

/** Opens a sealed set stored for the tenant and workload; SecretsDecryptError when it does not authenticate. */
export function openValues(
  key: Buffer,
  tenant: string,
  workload: string,
  sealed: SealedSecrets,
): Record<string, string> {
  const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(tenant, workload, sealed.keys));
  decipher.setAuthTag(sealed.tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    const where = `the secrets of tenant ${JSON.stringify(tenant)} for workload ${JSON.stringify(workload)}`;
    const current = keyId(key);
    throw new SecretsDecryptError(
      sealed.keyId === current
        ? `${where} do not authenticate: the row was altered or copied from another tenant or workload`
        : `${where} were sealed with another secret key (id ${sealed.keyId}, current ${current}): restore ` +
            'the BOILERHOUSE_SECRET_KEY or secret.key they were stored with, or store them again',
    );
  }
  try {
    return JSON.parse(plaintext.toString('utf8')) as Record<string, string>;
  } finally {
    plaintext.fill(0);
  }
}

function additionalData(tenant: string, workload: string, keys: readonly string[]): Buffer {
  // JSON makes the encoding unambiguous: no two (tenant, workload, names) give the same bytes.
  return Buffer.from(JSON.stringify([AAD_LABEL, tenant, workload, keys]), 'utf8');
}
