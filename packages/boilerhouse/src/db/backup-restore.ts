/**
 * Putting a backup (db/backup.ts) back into a data directory, with the daemon stopped: the backup is checked
 * whole first (manifest, each file's size and SHA-256, the database's integrity, schema version and daemon
 * id, the secret key's id), the current database and key are moved aside (never deleted), and copies of the
 * backup's files are put in their place. What runs is reconciled at the daemon's next start (pool/recovery.ts).
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, mkdtemp, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { keyId } from '../secrets/cipher.ts';
import { SECRET_KEY_ENV, SECRET_KEY_FILE } from '../secrets/index.ts';
import { parseSecretKey } from '../secrets/key.ts';
import {
  BackupError,
  type BackupManifest,
  DATABASE_FILE,
  MANIFEST_FILE,
  parseManifest,
} from './backup-manifest.ts';
import { MIGRATIONS } from './migrations/index.ts';

const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Where a restore keeps what it replaced: `<data dir>/replaced/<time>-<random>/`. */
const REPLACED_DIR = 'replaced';
/** SQLite's result code for a database another connection holds (SQLITE_BUSY). */
const SQLITE_BUSY = 5;

export interface CheckedBackup {
  manifest: BackupManifest;
  /** Sealed rows of tenant_secrets whose key is not the backup's (they could not be opened before either). */
  foreignSecrets: number;
}

/** Checks a backup directory whole, reading only: a BackupError names the first thing wrong. */
export async function checkBackup(
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<CheckedBackup> {
  const manifest = parseManifest(await readManifest(dir));
  if (manifest.schema_version > MIGRATIONS.length) {
    throw new BackupError(
      `the backup's database is at schema version ${manifest.schema_version}, newer than this Boilerhouse knows (${MIGRATIONS.length}): restore it with the Boilerhouse that took it (${manifest.boilerhouse_version}) or a newer one`,
    );
  }
  for (const [name, file] of Object.entries(manifest.files)) {
    const info = await lstatIn(dir, name);
    if (info.size !== file.bytes || (await sha256OfFile(join(dir, name))) !== file.sha256) {
      throw new BackupError(`${name} is damaged: its size or SHA-256 is not the one ${MANIFEST_FILE} gives`);
    }
  }
  checkKey(
    dir,
    manifest,
    env,
    manifest.secret_key.source === 'file' ? await readFile(join(dir, SECRET_KEY_FILE), 'utf8') : undefined,
  );
  return { manifest, foreignSecrets: checkDatabase(join(dir, DATABASE_FILE), manifest) };
}

export interface RestoreResult extends CheckedBackup {
  /** Where the database (and key) it replaced were moved; undefined when the data directory had none. */
  keptAside: string | undefined;
  /** The files moved there. */
  keptFiles: string[];
  /** The daemon id of the database replaced, when there was one. */
  replacedDaemon: string | undefined;
}

/** Checks the backup, then puts it into `dataDir` in place of what is there (kept aside). */
export async function restoreBackup(options: {
  backupDir: string;
  dataDir: string;
  env: Readonly<Record<string, string | undefined>>;
  now?: Date;
}): Promise<RestoreResult> {
  const { backupDir, dataDir } = options;
  const checked = await checkBackup(backupDir, options.env);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const current = join(dataDir, DATABASE_FILE);
  const replacedDaemon = await settleCurrent(current, dataDir);
  const fromFile = checked.manifest.secret_key.source === 'file';
  const replaced = [
    ...[DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, `${DATABASE_FILE}-journal`],
    ...(fromFile ? [SECRET_KEY_FILE] : []),
  ];
  const present: string[] = [];
  for (const name of replaced) if (await exists(join(dataDir, name))) present.push(name);
  let keptAside: string | undefined;
  if (present.length > 0) {
    await mkdir(join(dataDir, REPLACED_DIR), { mode: 0o700, recursive: true });
    const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
    keptAside = await mkdtemp(join(dataDir, REPLACED_DIR, `${stamp}-`));
    for (const name of present) await rename(join(dataDir, name), join(keptAside, name));
  }
  for (const name of [DATABASE_FILE, ...(fromFile ? [SECRET_KEY_FILE] : [])]) {
    const temp = join(dataDir, `${name}.restoring`);
    await unlink(temp).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await copyFile(join(backupDir, name), temp, constants.COPYFILE_EXCL);
    await chmod(temp, 0o600);
    await rename(temp, join(dataDir, name));
  }
  return { ...checked, keptAside, keptFiles: present, replacedDaemon };
}

/** The key in the backup (or the one the daemon will be given) must be the one its secrets are sealed with. */
function checkKey(
  dir: string,
  manifest: BackupManifest,
  env: Readonly<Record<string, string | undefined>>,
  keyText: string | undefined,
): void {
  const expected = manifest.secret_key.key_id;
  const fromEnv = env[SECRET_KEY_ENV];
  if (keyText !== undefined) {
    const id = keyId(parseSecretKey(keyText, `${join(dir, SECRET_KEY_FILE)}`));
    if (id !== expected)
      throw new BackupError(`${SECRET_KEY_FILE} is not the key the manifest names (id ${expected})`);
  }
  if (fromEnv !== undefined && keyId(parseSecretKey(fromEnv, SECRET_KEY_ENV)) !== expected) {
    throw new BackupError(
      keyText === undefined
        ? `${SECRET_KEY_ENV} here is not the key the backup's secrets are sealed with (id ${expected})`
        : `${SECRET_KEY_ENV} is set to another key than the backup's ${SECRET_KEY_FILE} (id ${expected}), and a daemon given it would not use that file: unset it, or set it to that key`,
    );
  }
}

/** Opens the backup's database read-only and checks it is whole and the manifest's; the foreign secret rows. */
function checkDatabase(path: string, manifest: BackupManifest): number {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw new BackupError(`${DATABASE_FILE} cannot be opened: ${(error as Error).message}`);
  }
  try {
    const check = (db.prepare('PRAGMA quick_check').all() as { quick_check: string }[]).map(
      (row) => row.quick_check,
    );
    if (check.join() !== 'ok')
      throw new BackupError(`${DATABASE_FILE} is damaged: ${check.slice(0, 3).join('; ')}`);
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version !== manifest.schema_version) {
      throw new BackupError(
        `${DATABASE_FILE} is at schema version ${version}, not the manifest's ${manifest.schema_version}`,
      );
    }
    const daemon = db.prepare("SELECT value FROM meta WHERE key = 'daemon_id'").get() as
      | { value: string }
      | undefined;
    if (daemon?.value !== manifest.daemon) {
      throw new BackupError(`${DATABASE_FILE} is not daemon ${manifest.daemon}'s database`);
    }
    return (
      db
        .prepare('SELECT count(*) AS n FROM tenant_secrets WHERE key_id != ?')
        .get(manifest.secret_key.key_id) as {
        n: number;
      }
    ).n;
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${DATABASE_FILE} cannot be read: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Makes sure no daemon holds the current database, and folds its WAL into it so that the file moved aside
 * is whole on its own (switching a WAL database back to a rollback journal needs every other connection
 * gone). Returns its daemon id; undefined when there is none (or it cannot be read: it is kept aside as is).
 */
async function settleCurrent(path: string, dataDir: string): Promise<string | undefined> {
  if (!(await exists(path))) return undefined;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch {
    return undefined;
  }
  try {
    db.exec('PRAGMA busy_timeout = 1000');
    db.exec('PRAGMA journal_mode = DELETE');
    const row = db.prepare("SELECT value FROM meta WHERE key = 'daemon_id'").get() as
      | { value: string }
      | undefined;
    return row?.value;
  } catch (error) {
    const code = (error as { errcode?: number }).errcode;
    if (code !== undefined && (code & 0xff) === SQLITE_BUSY) {
      throw new BackupError(
        `the database in ${dataDir} is in use: a daemon is running on this data directory; stop it first (systemctl stop boilerhouse)`,
      );
    }
    return undefined;
  } finally {
    db.close();
  }
}

async function readManifest(dir: string): Promise<string> {
  const info = await lstatIn(dir, MANIFEST_FILE);
  if (info.size > MAX_MANIFEST_BYTES) throw new BackupError(`${MANIFEST_FILE} is over 1 MiB: not a backup's`);
  return readFile(join(dir, MANIFEST_FILE), 'utf8');
}

/** A regular file of the backup: a link, or anything else, is refused. */
async function lstatIn(dir: string, name: string) {
  const info = await lstat(join(dir, name)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new BackupError(`${name} is missing from ${dir}: not a whole backup`);
    throw error;
  });
  if (!info.isFile()) throw new BackupError(`${join(dir, name)} is not a regular file`);
  return info;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
