/**
 * Reading what a save should hold from an instance's state volume, safely: the volume is the tenant's, so
 * everything goes through beneath.ts (each directory opened without following links, every name looked up
 * through its parent's descriptor), and a file is read only if it is still the inode the scan saw.
 * SQLite databases (recognised by their header) are copied by the confined helper (sqlite-backup.ts), a
 * consistent copy even while the tenant writes; the -wal, -shm and -journal files beside a database are
 * never saved on their own, but a file that merely has such a name is.
 *
 * Only ENOENT means a file is gone. Any other error fails the save, so the previous save stays HEAD rather
 * than a `mode: sync` save dropping what an I/O error hid.
 */
import { type BigIntStats, constants } from 'node:fs';
import { type FileHandle, lstat, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Beneath, BeneathError, type Identity, isNotFound } from './beneath.ts';
import type { MappingSet } from './mappings.ts';
import { backupDatabase, type SqliteBackupOptions } from './sqlite-backup.ts';

const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000');
/** `dir/x.db-wal` -> `dir/x.db`: a name that is something else plus a SQLite side file's suffix. */
const SIDE_FILE = /^((?:.*\/)?[^/]+)-(?:wal|shm|journal)$/;

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
  /** The inode the scan saw: what is read must be it. */
  identity: Identity;
  /** The consistent copy of a database, in the daemon's own scratch directory, once made. */
  copy?: string;
}

export interface Scan {
  files: CapturedFile[];
  /** Empty directories, by sink path. */
  dirs: string[];
}

/** What the last save knew of a file, to skip reading it again when it has not changed. */
export interface KnownFile {
  seen: string;
  sqlite?: boolean;
}

/** How many files are examined at once: the scan is bound by file-system latency, not CPU. */
const PARALLEL_STATS = 32;

interface Candidate {
  relative: string;
  sinkPath: string;
}

/**
 * The files and empty directories of the state volume that the mappings save (upload or bidirectional).
 * Files whose fingerprint matches `known` (the last save) are not opened at all.
 */
export async function scanState(
  volume: Beneath,
  mappings: MappingSet,
  known: ReadonlyMap<string, KnownFile> = new Map(),
): Promise<Scan> {
  const candidates: Candidate[] = [];
  const dirs: string[] = [];
  const saves = (path: string) => {
    const governed = mappings.govern(path);
    return governed === undefined || governed.mapping.direction === 'download' ? undefined : governed;
  };
  // Walks directories and picks the files a mapping saves; true when anything below is saved.
  const walk = async (relative: string): Promise<boolean> => {
    const entries = await volume.list(relative).catch((error: unknown) => {
      if (isNotFound(error) && relative !== '.') return undefined;
      throw error;
    });
    if (entries === undefined) return false;
    let saved = false;
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = relative === '.' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (await walk(path)) saved = true;
        continue;
      }
      const governed = entry.isFile() ? saves(path) : undefined;
      if (governed === undefined) continue;
      candidates.push({ relative: path, sinkPath: governed.sinkPath });
      saved = true;
    }
    const governed = relative === '.' ? undefined : mappings.govern(relative);
    if (!saved && governed !== undefined && governed.mapping.direction !== 'download')
      dirs.push(governed.sinkPath);
    return saved || governed !== undefined;
  };
  for (const root of mappings.roots()) {
    if (root === '.') {
      await walk('.');
      continue;
    }
    const stats = await rootStats(volume, root);
    if (stats?.isDirectory()) await walk(root);
    else if (stats?.isFile()) {
      const governed = saves(root);
      if (governed !== undefined) candidates.push({ relative: root, sinkPath: governed.sinkPath });
    }
  }
  // Databases first, so their side files are never opened (closing a descriptor of a -shm file drops the
  // POSIX locks the same process holds on it: it must not happen to a tenant's connection in tests).
  const plain = candidates.filter((candidate) => !SIDE_FILE.test(candidate.relative));
  const files = await examineAll(volume, plain, known);
  const databases = new Map(files.map((file) => [file.path, file.sqlite]));
  const sideFiles: Candidate[] = [];
  for (const candidate of candidates) {
    const base = SIDE_FILE.exec(candidate.relative)?.[1];
    if (base === undefined) continue;
    const database = databases.get(base) ?? (await isDatabase(volume, base));
    if (!database) sideFiles.push(candidate);
  }
  files.push(...(await examineAll(volume, sideFiles, known)));
  return { files, dirs };
}

async function examineAll(
  volume: Beneath,
  candidates: Candidate[],
  known: ReadonlyMap<string, KnownFile>,
): Promise<CapturedFile[]> {
  const files: (CapturedFile | undefined)[] = new Array(candidates.length);
  let next = 0;
  const examine = async () => {
    while (next < candidates.length) {
      const index = next++;
      const { relative, sinkPath } = candidates[index] as Candidate;
      files[index] = await examineFile(volume, relative, sinkPath, known.get(sinkPath));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_STATS, candidates.length) }, examine));
  return files.filter((file): file is CapturedFile => file !== undefined);
}

/**
 * The entry at a mapping's root, or undefined when there is none: a link or a file on the way means the
 * volume has no such directory (a link is never followed), not an error.
 */
async function rootStats(volume: Beneath, root: string): Promise<BigIntStats | undefined> {
  let path = '';
  let stats: BigIntStats | undefined;
  for (const segment of root.split('/')) {
    if (stats !== undefined && !stats.isDirectory()) return undefined;
    path = path === '' ? segment : `${path}/${segment}`;
    stats = await volume.lstat(path);
    if (stats === undefined) return undefined;
  }
  return stats;
}

async function examineFile(
  volume: Beneath,
  relative: string,
  sinkPath: string,
  known: KnownFile | undefined,
): Promise<CapturedFile | undefined> {
  const stats = await volume.lstat(relative);
  // Gone, or no longer a regular file (a link is never saved): not part of this save.
  if (stats === undefined || !stats.isFile()) return undefined;
  const identity = { dev: stats.dev, ino: stats.ino };
  const fingerprint = async (sqlite: boolean) => {
    const wal = sqlite ? await volume.lstat(`${relative}-wal`) : undefined;
    const walPart = wal === undefined ? ['', ''] : [wal.size, msOf(wal.mtimeNs)];
    return [stats.ino, stats.size, msOf(stats.mtimeNs), ...walPart].join(':');
  };
  // Unchanged since the last save (same fingerprint, as the same kind of file): no need to open it.
  let sqlite = known?.sqlite === true;
  let seen = await fingerprint(sqlite);
  if (known === undefined || known.seen !== seen) {
    const header = await hasSqliteHeader(volume, relative, identity);
    if (header === undefined) return undefined;
    sqlite = header;
    seen = await fingerprint(sqlite);
  }
  return {
    path: relative,
    sinkPath,
    size: Number(stats.size),
    mode: Number(stats.mode) & 0o7777,
    mtimeMs: msOf(stats.mtimeNs),
    seen,
    sqlite,
    identity,
  };
}

/** Milliseconds as Node's number stats give them (so fingerprints match those of earlier saves). */
function msOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) * 1000 + Number(ns % 1_000_000_000n) / 1e6;
}

/** Whether `relative` (not itself saved) is a regular file with the SQLite header: its side files are not saved. */
async function isDatabase(volume: Beneath, relative: string): Promise<boolean> {
  const stats = await volume.lstat(relative);
  if (stats === undefined || !stats.isFile()) return false;
  return (await hasSqliteHeader(volume, relative, { dev: stats.dev, ino: stats.ino })) === true;
}

/** Whether the file starts with the SQLite header; undefined when it is gone. */
async function hasSqliteHeader(
  volume: Beneath,
  relative: string,
  identity: Identity,
): Promise<boolean | undefined> {
  let handle: FileHandle;
  try {
    handle = await openSeen(volume, relative, identity);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    return bytesRead === header.length && header.equals(SQLITE_HEADER);
  } finally {
    await handle.close();
  }
}

/**
 * Opens `relative` only if it is still the regular file the scan saw. A link, FIFO or other inode in its
 * place fails the save (the next save sees what is there then); ENOENT stays ENOENT.
 */
async function openSeen(volume: Beneath, relative: string, identity: Identity): Promise<FileHandle> {
  let opened: Awaited<ReturnType<Beneath['openFile']>>;
  try {
    opened = await volume.openFile(relative);
  } catch (error) {
    const code = (error as BeneathError).code;
    if (code === 'ELOOP' || code === 'EFTYPE' || code === 'ENOTDIR') throw changed(relative, error);
    throw error;
  }
  if (opened.stats.dev !== identity.dev || opened.stats.ino !== identity.ino) {
    await opened.handle.close();
    throw changed(relative);
  }
  return opened.handle;
}

function changed(relative: string, cause?: unknown): BeneathError {
  return new BeneathError(relative, 'ECHANGED', 'changed while it was being saved; not saved', cause);
}

/**
 * Makes a consistent copy of each database that changed, for upload; sizes of copies replace the live
 * files' sizes. Unchanged databases (same fingerprint as last save) are not copied. Returns the removal
 * of the copies.
 */
export async function copyDatabases(
  volume: Beneath,
  files: CapturedFile[],
  changedSinceLastSave: (file: CapturedFile) => boolean,
  options: SqliteBackupOptions,
): Promise<() => Promise<void>> {
  let scratch: string | undefined;
  const dispose = async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  };
  try {
    for (const [index, file] of files.entries()) {
      if (!file.sqlite || !changedSinceLastSave(file)) continue;
      // mkdtemp makes it 0700: the copies are the daemon's, in a directory no tenant can reach.
      scratch ??= await mkdtemp(join(tmpdir(), 'boilerhouse-sqlite-'));
      const copy = join(scratch, `${index}.db`);
      await backupDatabase(volume, file.path, file.identity, copy, options);
      file.copy = copy;
      file.size = (await lstat(copy)).size;
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return dispose;
}

/** Opens a captured file for reading: its database copy, or the live file if it is still what the scan saw. */
export async function openCaptured(volume: Beneath, file: CapturedFile): Promise<FileHandle> {
  if (file.copy !== undefined) return open(file.copy, constants.O_RDONLY);
  return openSeen(volume, file.path, file.identity).catch((error: unknown) => {
    throw isNotFound(error) ? changed(file.path, error) : error;
  });
}
