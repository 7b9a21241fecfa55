/**
 * What a backup of the daemon's own state holds (db/backup.ts takes one, db/backup-restore.ts puts one
 * back): `manifest.json` says whose database it is, at which schema version, when it was taken, each file's
 * size and SHA-256, and which secret key seals the tenants' secrets (its id, never the key).
 */
import { SECRET_KEY_FILE } from '../secrets/index.ts';

export const BACKUP_FORMAT = 'boilerhouse-backup/1';
export const MANIFEST_FILE = 'manifest.json';
export const DATABASE_FILE = 'boilerhouse.db';
/** Every file a backup may hold besides the manifest, in the order they travel. */
export const BACKUP_FILES = [DATABASE_FILE, SECRET_KEY_FILE] as const;

export interface BackupFile {
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  /** The daemon id the database names (and its containers carry). */
  daemon: string;
  schema_version: number;
  created_at: string;
  boilerhouse_version: string;
  secret_key: {
    /** `file`: `secret.key` is in the backup; `environment`: the key is BOILERHOUSE_SECRET_KEY, kept elsewhere. */
    source: 'file' | 'environment';
    /** The key's id (secrets/cipher.ts keyId), as each sealed row of tenant_secrets names it. */
    key_id: string;
  };
  files: Partial<Record<(typeof BACKUP_FILES)[number], BackupFile>>;
  /** What the database holds, for a person to see what a restore brings back. */
  contents: { instances: number; tenant_secrets: number; tokens: number; events: number };
}

/** A backup that cannot be used as it is, and why. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** Reads a manifest, naming the first field that is missing or wrong. */
export function parseManifest(text: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackupError(`${MANIFEST_FILE} is not JSON`);
  }
  const manifest = value as BackupManifest;
  const wrong = (field: string) => new BackupError(`${MANIFEST_FILE}: ${field} is missing or not valid`);
  if (typeof value !== 'object' || value === null) throw wrong('the manifest');
  if (manifest.format !== BACKUP_FORMAT) {
    throw new BackupError(
      `${MANIFEST_FILE}: format is ${JSON.stringify(manifest.format)}, not ${JSON.stringify(BACKUP_FORMAT)}`,
    );
  }
  if (typeof manifest.daemon !== 'string' || !/^[0-9a-f]{1,64}$/.test(manifest.daemon)) throw wrong('daemon');
  if (!Number.isInteger(manifest.schema_version) || manifest.schema_version < 1)
    throw wrong('schema_version');
  if (typeof manifest.created_at !== 'string' || Number.isNaN(Date.parse(manifest.created_at)))
    throw wrong('created_at');
  const key = manifest.secret_key;
  if (typeof key !== 'object' || key === null) throw wrong('secret_key');
  if (key.source !== 'file' && key.source !== 'environment') throw wrong('secret_key.source');
  if (typeof key.key_id !== 'string' || !/^[0-9a-f]{16}$/.test(key.key_id)) throw wrong('secret_key.key_id');
  if (typeof manifest.files !== 'object' || manifest.files === null) throw wrong('files');
  for (const [name, file] of Object.entries(manifest.files)) {
    if (!(BACKUP_FILES as readonly string[]).includes(name)) throw wrong(`files.${name}`);
    if (!Number.isSafeInteger(file?.bytes) || file.bytes < 0) throw wrong(`files.${name}.bytes`);
    if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256))
      throw wrong(`files.${name}.sha256`);
  }
  if (manifest.files[DATABASE_FILE] === undefined) throw wrong(`files.${DATABASE_FILE}`);
  if ((manifest.files[SECRET_KEY_FILE] !== undefined) !== (key.source === 'file'))
    throw wrong(`files.${SECRET_KEY_FILE}`);
  return manifest;
}
