/**
 * A backup of the daemon's own state, taken while it serves: a consistent copy of its database (SQLite's
 * online backup, never a copy of the file beside its `-wal`), the secret key that opens the tenants' secrets
 * (unless the key comes from BOILERHOUSE_SECRET_KEY, which the operator keeps), and a manifest
 * (db/backup-manifest.ts), as a tar stream (db/backup-archive.ts). Tenants' states are not in it: they live
 * in their sinks.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { keyId } from '../secrets/cipher.ts';
import { SECRET_KEY_ENV, SECRET_KEY_FILE, type SecretKey } from '../secrets/index.ts';
import { TAR_END, tarHeader, tarPadding } from './backup-archive.ts';
import { BACKUP_FORMAT, type BackupManifest, DATABASE_FILE, MANIFEST_FILE } from './backup-manifest.ts';
import type { Database } from './database.ts';

/** Pages per backup step: all of them, so the copy is one read transaction (see takeBackup). */
const ALL_PAGES = 2 ** 31 - 1;

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface BackupSource {
  db: Database;
  /** The key the daemon seals secrets with, and where it came from. */
  key: SecretKey;
}

export interface Backup {
  manifest: BackupManifest;
  /** The tar: manifest.json first, then secret.key (when from the file), then boilerhouse.db. */
  archive: ReadableStream<Uint8Array>;
}

/**
 * Copies the database beside itself (the data directory: same disk, readable by the daemon only), reads the
 * manifest's facts from the copy, and hands the copy back as a stream. The copy's file is unlinked before the
 * stream starts, so nothing of it stays behind whether the stream is read to the end, cut or never read.
 */
export async function takeBackup(source: BackupSource): Promise<Backup> {
  const path = source.db.location();
  if (path === null) throw new Error('the database is in memory: there is nothing to back up');
  const dir = await mkdtemp(join(dirname(path), '.backup-'));
  let handle: FileHandle | undefined;
  try {
    const copy = join(dir, DATABASE_FILE);
    // A connection of its own, so that the daemon's statements never wait for the copy (WAL: readers and the
    // writer go on side by side), and one step, so that the copy is one snapshot: with several, every write
    // of the daemon between two steps would start the copy over.
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      await backup(reader, copy, { rate: ALL_PAGES });
    } finally {
      reader.close();
    }
    const facts = readFacts(copy);
    handle = await open(copy, 'r');
    const { bytes, sha256 } = await digest(handle);
    const fromFile = source.key.source !== SECRET_KEY_ENV;
    const keyText = Buffer.from(`${source.key.key.toString('base64')}\n`);
    const createdAt = new Date();
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      daemon: facts.daemon,
      schema_version: facts.schemaVersion,
      created_at: createdAt.toISOString(),
      boilerhouse_version: VERSION,
      secret_key: { source: fromFile ? 'file' : 'environment', key_id: keyId(source.key.key) },
      files: {
        [DATABASE_FILE]: { bytes, sha256 },
        ...(fromFile ? { [SECRET_KEY_FILE]: { bytes: keyText.length, sha256: sha256Of(keyText) } } : {}),
      },
      contents: facts.contents,
    };
    const entries: { name: string; bytes: Buffer }[] = [
      { name: MANIFEST_FILE, bytes: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
      ...(fromFile ? [{ name: SECRET_KEY_FILE, bytes: keyText }] : []),
    ];
    const opened = handle;
    handle = undefined;
    return { manifest, archive: ReadableStream.from(archive(entries, opened, bytes, createdAt)) };
  } finally {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function* archive(
  entries: { name: string; bytes: Buffer }[],
  database: FileHandle,
  databaseBytes: number,
  mtime: Date,
): AsyncGenerator<Uint8Array> {
  try {
    for (const { name, bytes } of entries) {
      yield tarHeader(name, bytes.length, mtime);
      yield bytes;
      yield tarPadding(bytes.length);
    }
    yield tarHeader(DATABASE_FILE, databaseBytes, mtime);
    let sent = 0;
    for await (const chunk of database.createReadStream({ start: 0, autoClose: false })) {
      sent += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (sent !== databaseBytes) throw new Error('the copy of the database changed while it was sent');
    yield tarPadding(databaseBytes);
    yield TAR_END;
  } finally {
    await database.close();
  }
}

interface Facts {
  daemon: string;
  schemaVersion: number;
  contents: BackupManifest['contents'];
}

/**
 * What the copy holds; and the copy made a file of its own, without the WAL it was copied from (rollback
 * journal: it opens read-only anywhere, and a restored daemon turns WAL on again).
 */
function readFacts(path: string): Facts {
  const copy = new DatabaseSync(path);
  try {
    copy.exec('PRAGMA journal_mode = DELETE');
    const count = (table: string) =>
      (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const daemon = copy.prepare("SELECT value FROM meta WHERE key = 'daemon_id'").get() as
      | { value: string }
      | undefined;
    if (daemon === undefined) throw new Error('the database names no daemon id');
    return {
      daemon: daemon.value,
      schemaVersion: (copy.prepare('PRAGMA user_version').get() as { user_version: number }).user_version,
      contents: {
        instances: count('instances'),
        tenant_secrets: count('tenant_secrets'),
        tokens: count('api_tokens WHERE revoked_at IS NULL'),
        events: count('events'),
      },
    };
  } finally {
    copy.close();
  }
}

async function digest(handle: FileHandle): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
