/**
 * `backup DIR`: the daemon's own state (GET /api/v1/backup, admin) written into a new directory, mode 0700,
 * each file 0600. Through the API, so it works against a running daemon, from any host that reaches it.
 * Every file is checked against the manifest's size and SHA-256 as it arrives; the manifest is written last,
 * so a directory without one is not a backup. The key is never printed.
 */
import { createHash } from 'node:crypto';
import { chmod, type FileHandle, lstat, mkdir, open, readdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readTar, type TarEntrySink } from '../db/backup-archive.ts';
import {
  BACKUP_FILES,
  BackupError,
  type BackupManifest,
  DATABASE_FILE,
  MANIFEST_FILE,
  parseManifest,
} from '../db/backup-manifest.ts';
import { SECRET_KEY_ENV, SECRET_KEY_FILE } from '../secrets/index.ts';
import type { Command } from './command.ts';
import { bytes } from './format.ts';
import { print } from './output.ts';

const MAX_MANIFEST_BYTES = 1024 * 1024;

export const backup: Command = {
  path: ['backup'],
  args: 'DIR',
  summary: "copy the daemon's database and secret key into a new directory",
  description:
    "Writes a consistent copy of the running daemon's database (SQLite's online backup), the secret key\n" +
    "that opens the tenants' secrets (unless the key comes from BOILERHOUSE_SECRET_KEY: keep that key with\n" +
    'the backup yourself) and a manifest (daemon id, schema version, time, sizes and SHA-256) into DIR, which\n' +
    "must be new or empty; it is made mode 0700 and its files 0600. Needs an admin token. Tenants' saved\n" +
    'states are not in it: they live in their sinks. Put it back with "restore DIR", the daemon stopped.',
  options: {},
  api: true,
  examples: ['backup /var/backups/boilerhouse/$(date +%F)', 'backup backups/before-upgrade --json'],
  async run(context) {
    const dir = resolve(context.positionals[0] as string);
    const made = await prepareTarget(dir);
    let manifest: BackupManifest;
    try {
      const response = await context.client().stream('/backup', { headers: { accept: 'application/x-tar' } });
      if (response.body === null) throw new Error('the daemon answered with no backup');
      manifest = await writeBackup(dir, response.body);
    } catch (error) {
      // Only what this command made goes; a directory that was there stays, empty as it was.
      await rm(join(dir, MANIFEST_FILE), { force: true });
      for (const name of BACKUP_FILES) await rm(join(dir, name), { force: true });
      if (made) await rmdir(dir).catch(() => undefined);
      throw error;
    }
    print(context, { directory: dir, manifest }, () => summary(dir, manifest));
    return 0;
  },
};

/** Makes DIR (0700), or takes it when it is an empty directory; refuses anything else. True when made. */
async function prepareTarget(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    return true;
  }
  if (!info.isDirectory()) throw new Error(`${dir} is not a directory`);
  if ((await readdir(dir)).length > 0) {
    throw new Error(`${dir} is not empty: a backup goes into a new or empty directory`);
  }
  await chmod(dir, 0o700);
  return false;
}

/** Reads the archive into DIR, checking each file against the manifest; the manifest is written last. */
async function writeBackup(dir: string, archive: AsyncIterable<Uint8Array>): Promise<BackupManifest> {
  let manifestText: string | undefined;
  const received = new Map<string, { bytes: number; sha256: string }>();
  await readTar(archive, async (name, size) => {
    if (name === MANIFEST_FILE && manifestText === undefined) {
      if (size > MAX_MANIFEST_BYTES)
        throw new BackupError(`the daemon sent a ${MANIFEST_FILE} of ${size} bytes`);
      const parts: Buffer[] = [];
      return {
        write: async (chunk) => void parts.push(chunk),
        end: async () => {
          manifestText = Buffer.concat(parts).toString('utf8');
        },
      };
    }
    if (!(BACKUP_FILES as readonly string[]).includes(name) || received.has(name)) {
      throw new BackupError(`the daemon sent ${name}, which is no part of a backup (or sent it twice)`);
    }
    return fileSink(join(dir, name), (digest) => received.set(name, digest));
  });
  if (manifestText === undefined) throw new BackupError(`the daemon sent no ${MANIFEST_FILE}`);
  const manifest = parseManifest(manifestText);
  for (const name of new Set([...received.keys(), ...Object.keys(manifest.files)])) {
    const expected = manifest.files[name as keyof BackupManifest['files']];
    const got = received.get(name);
    if (
      expected === undefined ||
      got === undefined ||
      got.bytes !== expected.bytes ||
      got.sha256 !== expected.sha256
    ) {
      throw new BackupError(`${name} did not arrive as the manifest describes it (size and SHA-256)`);
    }
  }
  const handle = await open(join(dir, MANIFEST_FILE), 'wx', 0o600);
  try {
    await handle.writeFile(manifestText);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return manifest;
}

/** A new file (0600) that hashes what it is given, synced to disk at the end. */
async function fileSink(
  path: string,
  done: (digest: { bytes: number; sha256: string }) => void,
): Promise<TarEntrySink> {
  const handle: FileHandle = await open(path, 'wx', 0o600);
  const hash = createHash('sha256');
  let count = 0;
  return {
    async write(chunk) {
      hash.update(chunk);
      count += chunk.length;
      await handle.write(chunk);
    },
    async end() {
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      done({ bytes: count, sha256: hash.digest('hex') });
    },
  };
}

function summary(dir: string, manifest: BackupManifest): string {
  const database = manifest.files[DATABASE_FILE];
  const { instances, tenant_secrets, tokens } = manifest.contents;
  const lines = [
    `backed up daemon ${manifest.daemon} (schema ${manifest.schema_version}, Boilerhouse ${manifest.boilerhouse_version}) at ${manifest.created_at} into ${dir}:`,
    `  ${DATABASE_FILE}  ${bytes(database?.bytes ?? 0)}: ${instances} instances, secrets of ${tenant_secrets} tenant workloads, ${tokens} tokens`,
  ];
  if (manifest.secret_key.source === 'file') {
    lines.push(
      `  ${SECRET_KEY_FILE}  opens the tenants' secrets: keep this directory as safe as the key itself`,
    );
  } else {
    lines.push(
      `  no ${SECRET_KEY_FILE}: the key is ${SECRET_KEY_ENV} (id ${manifest.secret_key.key_id}); keep it with this backup, the secrets cannot be opened without it`,
    );
  }
  lines.push(`  ${MANIFEST_FILE}`, "Tenants' saved states are not in it: they live in their sinks.");
  return `${lines.join('\n')}\n`;
}
