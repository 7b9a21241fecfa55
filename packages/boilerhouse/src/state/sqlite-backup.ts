/**
 * Consistent copies of a tenant's SQLite databases, made by native/sqlite-backup.c: SQLite opens files by
 * path and follows links, so the daemon (root) never opens a tenant's database itself. The helper gets the
 * state volume as an open descriptor (fd 3) and the copy's file (fd 4), confines itself to the volume as
 * the volume's owner, and checks the database is the file the scan saw. Only paths and numbers are on its
 * command line.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Beneath, Identity } from './beneath.ts';

export interface SqliteBackupOptions {
  /** The helper binary (built by scripts/setup.sh next to the gate). */
  binary: string;
  /** A tenant holding a lock past this fails the save instead of hanging it. */
  timeoutMs: number;
}

const HELPER = 'boilerhouse-sqlite-backup';

export const DEFAULT_SQLITE_BACKUP: SqliteBackupOptions = {
  binary: resolve(import.meta.dirname, '../../native/build', HELPER),
  timeoutMs: 60_000,
};

/** The helper that setup builds beside the gate binary. */
export function sqliteBackupBeside(gateBinary: string): string {
  return join(dirname(gateBinary), HELPER);
}

/** The helper's exit code for "not the file the scan saw". */
const CHANGED = 4;

/** Copies the database `path` of `volume` (which must still be `identity`) into the new file `target`. */
export async function backupDatabase(
  volume: Beneath,
  path: string,
  identity: Identity,
  target: string,
  options: SqliteBackupOptions,
): Promise<void> {
  const output = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    const child = spawn(options.binary, [path, String(identity.dev), String(identity.ino)], {
      stdio: ['ignore', 'ignore', 'pipe', volume.fd, output.fd],
      env: {},
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < 4096) stderr += text;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const exit = await new Promise<number | null>((done, fail) => {
      child.on('error', fail);
      child.on('close', (code) => done(code));
    }).finally(() => clearTimeout(timer));
    if (timedOut) {
      throw new Error(
        `${path}: the SQLite backup did not finish within ${options.timeoutMs} ms (the tenant may hold a lock on it); not saved`,
      );
    }
    const why =
      stderr
        .trim()
        .split('\n')
        .pop()
        ?.replace(/^boilerhouse-sqlite-backup: /, '') ?? '';
    if (exit === CHANGED) throw new Error(`${path} changed while it was being saved; not saved (${why})`);
    if (exit !== 0) throw new Error(`${path}: the SQLite backup failed (exit ${exit}): ${why}`);
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' &&
      (error as { path?: string }).path === options.binary
    ) {
      throw new Error(`the SQLite backup helper ${options.binary} is missing; run scripts/setup.sh`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    await output.close();
  }
}
