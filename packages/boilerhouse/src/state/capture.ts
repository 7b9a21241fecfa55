/**
 * Reading what a save should hold from an instance's state volume, safely: the volume is the tenant's, so
 * symbolic links are never followed and every file opened is checked to really be inside the volume.
 * SQLite databases (recognised by their header) are captured through SQLite's backup API, a consistent copy
 * even while the tenant writes; their -wal, -shm and -journal files are never saved on their own.
 */
import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readdir, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import type { MappingSet } from './mappings.ts';

const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000');
const SQLITE_SIDE_FILES = /-(wal|shm|journal)$/;

export interface CapturedFile {
  /** Relative to the state volume. */
  path: string;
  sinkPath: string;
  size: number;
  mode: number;
  mtimeMs: number;
  /** Change fingerprint: inode, size, mtime (and the WAL's, for SQLite). */
  seen: string;
  sqlite: boolean;
  /** Where to read the content: the file itself, or the consistent copy of a database. */
  source: string;
}

export interface Capture {
  files: CapturedFile[];
  dirs: string[];
  /** Removes the temporary database copies. */
  dispose(): Promise<void>;
}

/** What the last save knew of a file, to skip reading it again when it has not changed. */
export interface KnownFile {
  seen: string;
  sqlite?: boolean;
}

/** How many files are examined at once: the scan is bound by file-system latency, not CPU. */
const PARALLEL_STATS = 32;

/**
 * The files and empty directories of the state volume that the mappings save (upload or bidirectional).
 * Files whose fingerprint matches `known` (the last save) are not opened at all.
 */
export async function scanState(
  stateDir: string,
  mappings: MappingSet,
  known: ReadonlyMap<string, KnownFile> = new Map(),
): Promise<Omit<Capture, 'dispose'>> {
  const candidates: { relative: string; sinkPath: string }[] = [];
  const dirs: string[] = [];
  // Walks directories (never through links) and picks the files a mapping saves; true when anything below is saved.
  const walk = async (relative: string): Promise<boolean> => {
    const entries = await readdir(join(stateDir, relative), { withFileTypes: true }).catch(() => []);
    let saved = false;
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = relative === '.' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (await walk(path)) saved = true;
        continue;
      }
      if (!entry.isFile() || SQLITE_SIDE_FILES.test(path)) continue;
      const governed = mappings.govern(path);
      if (governed === undefined || governed.mapping.direction === 'download') continue;
      candidates.push({ relative: path, sinkPath: governed.sinkPath });
      saved = true;
    }
    const governed = relative === '.' ? undefined : mappings.govern(relative);
    if (!saved && governed !== undefined && governed.mapping.direction !== 'download')
      dirs.push(governed.sinkPath);
    return saved || governed !== undefined;
  };
  for (const root of mappings.roots()) {
    const stats = await lstat(join(stateDir, root)).catch(() => undefined);
    if (stats?.isDirectory()) await walk(root);
    else if (stats?.isFile()) {
      const governed = mappings.govern(root);
      if (governed !== undefined && governed.mapping.direction !== 'download') {
        candidates.push({ relative: root, sinkPath: governed.sinkPath });
      }
    }
  }
  const files: (CapturedFile | undefined)[] = new Array(candidates.length);
  let next = 0;
  const examine = async () => {
    while (next < candidates.length) {
      const index = next++;
      const { relative, sinkPath } = candidates[index] as { relative: string; sinkPath: string };
      files[index] = await examineFile(stateDir, relative, sinkPath, known.get(sinkPath));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_STATS, candidates.length) }, examine));
  return { files: files.filter((file): file is CapturedFile => file !== undefined), dirs };
}

async function examineFile(
  stateDir: string,
  relative: string,
  sinkPath: string,
  known: KnownFile | undefined,
): Promise<CapturedFile | undefined> {
  const absolute = join(stateDir, relative);
  const stats = await lstat(absolute).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) return undefined;
  const fingerprint = async (sqlite: boolean) => {
    const wal = sqlite ? await lstat(`${absolute}-wal`).catch(() => undefined) : undefined;
    return [stats.ino, stats.size, stats.mtimeMs, wal?.size ?? '', wal?.mtimeMs ?? ''].join(':');
  };
  // Unchanged since the last save (same fingerprint, as the same kind of file): no need to open it.
  let sqlite = known?.sqlite === true;
  let seen = await fingerprint(sqlite);
  if (known === undefined || known.seen !== seen) {
    sqlite = await hasSqliteHeader(absolute);
    seen = await fingerprint(sqlite);
  }
  return {
    path: relative,
    sinkPath,
    size: stats.size,
    mode: stats.mode & 0o7777,
    mtimeMs: stats.mtimeMs,
    seen,
    sqlite,
    source: absolute,
  };
}

/**
 * Makes a consistent copy of each database that changed, for upload; sizes of copies replace the live
 * files' sizes. Unchanged databases (same fingerprint as last save) are not copied.
 */
export async function copyDatabases(
  files: CapturedFile[],
  changed: (file: CapturedFile) => boolean,
): Promise<Pick<Capture, 'files' | 'dispose'>> {
  let scratch: string | undefined;
  for (const file of files) {
    if (!file.sqlite || !changed(file)) continue;
    scratch ??= await mkdtemp(join(tmpdir(), 'boilerhouse-sqlite-'));
    const copy = join(scratch, `${files.indexOf(file)}.db`);
    await backupDatabase(file.source, copy);
    file.source = copy;
    file.size = (await lstat(copy)).size;
  }
  return {
    files,
    dispose: async () => {
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    },
  };
}

async function backupDatabase(source: string, target: string): Promise<void> {
  const sideFiles = await Promise.all(
    ['-wal', '-shm'].map((suffix) => lstat(`${source}${suffix}`).catch(() => undefined)),
  );
  const database = new DatabaseSync(source);
  try {
    // All pages in one step: a stepped backup restarts whenever the tenant writes, and might never end.
    await backup(database, target, { rate: 2 ** 30 });
  } finally {
    database.close();
  }
  // Opening the database as root must not leave root-owned side files the tenant could not write later.
  for (const [index, suffix] of ['-wal', '-shm'].entries()) {
    if (sideFiles[index] === undefined) await rm(`${source}${suffix}`, { force: true });
  }
}

async function hasSqliteHeader(path: string): Promise<boolean> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    return bytesRead === header.length && header.equals(SQLITE_HEADER);
  } finally {
    await handle.close();
  }
}

/**
 * Opens a captured file for reading. A file of the state volume must not be a symbolic link and must
 * resolve inside the volume (a directory swapped for a link while we walked would lead elsewhere).
 */
export async function openCaptured(stateDir: string, file: CapturedFile) {
  const handle = await open(file.source, constants.O_RDONLY | constants.O_NOFOLLOW);
  if (file.source !== join(stateDir, file.path)) return handle;
  const real = await readlink(`/proc/self/fd/${handle.fd}`);
  if (!real.startsWith(`${await realpath(stateDir)}/`)) {
    await handle.close();
    throw new Error(`${file.path} resolves outside the state volume; not saved`);
  }
  return handle;
}
