/**
 * Reads and writes beneath a root directory that never follow a link out of it. The daemon runs as root in
 * directories a tenant writes to, and the tenant may swap any file or directory for a link between two of
 * our system calls. Node has no openat(2), so every step goes through a directory's descriptor instead:
 * `/proc/self/fd/<fd>/<name>` makes the kernel resolve the very directory we opened and look up one name in
 * it, and the calls made on that path (open with O_NOFOLLOW, lstat, lchown, mkdir, unlink, rmdir) never
 * follow the name itself when it is a link. A path is opened one segment at a time, so a link anywhere on
 * it fails (ELOOP) instead of leading elsewhere.
 *
 * Only ENOENT means "not there"; every other error propagates as a BeneathError naming the path relative
 * to the root. Descriptors of directories are kept in a small cache while a Beneath is open, so a walk or
 * a restore of 10,000 files opens each directory about once and never holds more than a bounded number.
 */
import { type BigIntStats, constants, type Dirent } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir } from 'node:fs/promises';
import type { Owner } from '../owner.ts';

const { O_RDONLY, O_WRONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_CREAT, O_EXCL } = constants;
const DIRECTORY = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/**
 * Non-blocking, so a FIFO swapped in is opened (then refused by fstat) instead of waiting for a writer; a
 * terminal device never becomes the daemon's controlling terminal.
 */
const FILE = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const NEW_FILE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** Deeper paths are refused: each level costs a descriptor while it is opened. */
export const MAX_DEPTH = 128;
/** Idle directory descriptors kept open per Beneath. */
const CACHED_DIRS = 64;

/** A file's identity, to check that what is read is what a scan saw. */
export interface Identity {
  dev: bigint;
  ino: bigint;
}

export class BeneathError extends Error {
  /** The errno code (ENOENT, ELOOP, ...), or EFTYPE for "not a regular file". */
  readonly code: string;
  /** Relative to the root. */
  readonly path: string;

  constructor(path: string, code: string, what: string, cause?: unknown) {
    super(`${path === '' ? '.' : path}: ${what}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = path;
  }
}

/** The name `name` in the directory open as `fd`, looked up through the descriptor. */
export function at(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

export function isNotFound(error: unknown): boolean {
  return isCode(error, 'ENOENT');
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}

/** The segments of a relative path; '' and '.' are the root. Refuses anything but plain names. */
export function segmentsOf(relative: string): string[] {
  if (relative === '' || relative === '.') return [];
  const segments = relative.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\0')) {
      throw new BeneathError(
        relative,
        'EINVAL',
        'is not a plain relative path (empty, ".", ".." or NUL segment)',
      );
    }
  }
  if (segments.length > MAX_DEPTH) {
    throw new BeneathError(relative, 'ENAMETOOLONG', `is nested deeper than ${MAX_DEPTH} directories`);
  }
  return segments;
}

/** Wraps a system call's error with the relative path it was about. */
export function named(path: string, error: unknown): BeneathError {
  if (error instanceof BeneathError) return error;
  const code = (error as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
  const what =
    code === 'ELOOP'
      ? 'is a symbolic link; not followed'
      : code === 'ENOTDIR'
        ? 'is not a directory'
        : code === 'ENOENT'
          ? 'does not exist'
          : ((error as Error)?.message ?? String(error));
  return new BeneathError(path, code, what, error);
}

interface CachedDir {
  handle: Promise<FileHandle>;
  users: number;
}

export class Beneath {
  readonly root: string;
  readonly #root: FileHandle;
  readonly #dirs = new Map<string, CachedDir>();
  readonly #closing: Promise<void>[] = [];

  private constructor(root: string, handle: FileHandle) {
    this.root = root;
    this.#root = handle;
  }

  /** Opens `root` itself (which must be a directory, not a link). */
  static async open(root: string): Promise<Beneath> {
    const handle = await open(root, DIRECTORY).catch((error: unknown) => {
      throw named(root, error);
    });
    return new Beneath(root, handle);
  }

  /** The root's descriptor (for a child process to inherit). */
  get fd(): number {
    return this.#root.fd;
  }

  /** Runs `work` with the descriptor of directory `relative`; with `create`, missing directories are made. */
  async inDir<T>(relative: string, work: (fd: number) => Promise<T>, create?: Create): Promise<T> {
    const segments = segmentsOf(relative);
    const dir = await this.#acquire(segments, create);
    try {
      return await work(dir.fd);
    } finally {
      dir.release();
    }
  }

  /** Runs `work` with the descriptor of the directory holding `relative`, and its last segment. */
  async inParent<T>(
    relative: string,
    work: (fd: number, name: string) => Promise<T>,
    create?: Create,
  ): Promise<T> {
    const segments = segmentsOf(relative);
    const name = segments.pop();
    if (name === undefined) throw new BeneathError(relative, 'EINVAL', 'names the root, not an entry in it');
    return this.inDir(segments.join('/'), (fd) => work(fd, name), create);
  }

  /** The entry at `relative` itself (a link is not followed); undefined when it does not exist. */
  lstat(relative: string): Promise<BigIntStats | undefined> {
    return this.inParent(relative, (fd, name) => lstat(at(fd, name), { bigint: true })).catch(
      (error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw named(relative, error);
      },
    );
  }

  /** The entries of directory `relative` (with their types, links as links). */
  list(relative: string): Promise<Dirent[]> {
    return this.inDir(relative, (fd) => readdir(at(fd), { withFileTypes: true })).catch((error: unknown) => {
      throw named(relative, error);
    });
  }

  /** Opens the regular file at `relative` for reading; a link, FIFO, device or directory there is refused. */
  async openFile(relative: string): Promise<{ handle: FileHandle; stats: BigIntStats }> {
    const handle = await this.inParent(relative, (fd, name) => open(at(fd, name), FILE)).catch(
      (error: unknown) => {
        throw named(relative, error);
      },
    );
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) throw new BeneathError(relative, 'EFTYPE', 'is not a regular file; not read');
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw named(relative, error);
    }
  }

  /**
   * Creates the file `relative` (it must not exist) with `mode`, making missing directories on the way
   * (mode 0755, owned by `owner`). Set the exact mode, owner and times through the returned handle.
   */
  createFile(relative: string, mode: number, owner?: Owner): Promise<FileHandle> {
    return this.inParent(relative, (fd, name) => open(at(fd, name), NEW_FILE, mode), { owner }).catch(
      (error: unknown) => {
        throw named(relative, error);
      },
    );
  }

  /** Makes directory `relative` and any missing above it (mode 0755, owned by `owner`). */
  async makeDirs(relative: string, owner?: Owner): Promise<void> {
    await this.inDir(relative, async () => undefined, { owner });
  }

  /**
   * Walks the tree below directory `relative` in name order, depth first. `visit` sees each entry through its
   * parent's descriptor while that is open; a directory is descended into unless `visit` returns false.
   * An entry gone before it is visited is skipped; any other error ends the walk.
   */
  async walk(relative: string, visit: Visit): Promise<void> {
    await this.#walk(relative, visit, await this.list(relative));
  }

  async #walk(relative: string, visit: Visit, entries: Dirent[]): Promise<void> {
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = relative === '' || relative === '.' ? entry.name : `${relative}/${entry.name}`;
      const kind = kindOf(entry);
      const descend = await this.inDir(relative, async (fd) => visit({ path, at: at(fd, entry.name), kind }));
      if (kind !== 'directory' || descend === false) continue;
      // Removed since the listing: nothing left to visit. A link or a file swapped in is an error.
      const below = await this.list(path).catch((error: unknown) => {
        if (isNotFound(error)) return [];
        throw error;
      });
      await this.#walk(path, visit, below);
    }
  }

  /** Closes every descriptor. */
  async close(): Promise<void> {
    for (const [key, dir] of this.#dirs) {
      this.#dirs.delete(key);
      this.#closing.push(closeCached(dir));
    }
    const closing = this.#closing.splice(0);
    await Promise.all([...closing, this.#root.close()]);
  }

  async #acquire(segments: string[], create: Create | undefined): Promise<{ fd: number; release(): void }> {
    if (segments.length === 0) return { fd: this.#root.fd, release: () => undefined };
    const key = segments.join('/');
    let dir = this.#dirs.get(key);
    if (dir === undefined) {
      const opening = this.#openDir(segments, create);
      dir = { handle: opening, users: 0 };
      const cached = dir;
      this.#dirs.set(key, cached);
      opening.catch(() => {
        if (this.#dirs.get(key) === cached) this.#dirs.delete(key);
      });
    } else {
      // Most recently used last: the oldest idle ones are closed first.
      this.#dirs.delete(key);
      this.#dirs.set(key, dir);
    }
    dir.users++;
    const used = dir;
    const release = () => {
      used.users--;
      this.#trim();
    };
    try {
      return { fd: (await used.handle).fd, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  async #openDir(segments: string[], create: Create | undefined): Promise<FileHandle> {
    const relative = segments.join('/');
    const parent = await this.#acquire(segments.slice(0, -1), create);
    try {
      const name = segments[segments.length - 1] as string;
      const made =
        create !== undefined &&
        (await mkdir(at(parent.fd, name), { mode: 0o755 }).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST') return false;
            throw named(relative, error);
          },
        ));
      const handle = await open(at(parent.fd, name), DIRECTORY).catch(async (error: unknown) => {
        // O_DIRECTORY on a link answers ENOTDIR: say which it is.
        const entry = isCode(error, 'ENOTDIR')
          ? await lstat(at(parent.fd, name)).catch(() => undefined)
          : undefined;
        if (entry?.isSymbolicLink())
          throw new BeneathError(relative, 'ELOOP', 'is a symbolic link; not followed', error);
        throw named(relative, error);
      });
      if (made) {
        await Promise.all([
          handle.chmod(0o755),
          create?.owner === undefined ? undefined : handle.chown(create.owner.uid, create.owner.gid),
        ]).catch(async (error: unknown) => {
          await handle.close();
          throw named(relative, error);
        });
      }
      return handle;
    } finally {
      parent.release();
    }
  }

  #trim(): void {
    if (this.#dirs.size <= CACHED_DIRS) return;
    for (const [key, dir] of this.#dirs) {
      if (this.#dirs.size <= CACHED_DIRS) return;
      if (dir.users > 0) continue;
      this.#dirs.delete(key);
      this.#closing.push(closeCached(dir));
    }
  }
}

export interface Create {
  owner?: Owner | undefined;
}

export type EntryKind = 'directory' | 'file' | 'symlink' | 'other';

export interface BeneathEntry {
  /** Relative to the root. */
  path: string;
  /**
   * The entry through its parent's open descriptor (`/proc/self/fd/<fd>/<name>`), valid only during the
   * visit: lstat, lchown or open with O_NOFOLLOW on it act on the entry itself, never on a link's target.
   */
  at: string;
  /** As listed; the entry may have been swapped since, so check what you open. */
  kind: EntryKind;
}

/** Returns (or resolves to) false to skip what is below a directory. */
export type Visit = (entry: BeneathEntry) => unknown;

/** Walks everything below `root` (see Beneath.walk) and closes what it opened. */
export async function walkBeneath(root: string, visit: Visit): Promise<void> {
  const beneath = await Beneath.open(root);
  try {
    await beneath.walk('', visit);
  } finally {
    await beneath.close();
  }
}

function kindOf(entry: Dirent): EntryKind {
  if (entry.isDirectory()) return 'directory';
  if (entry.isFile()) return 'file';
  return entry.isSymbolicLink() ? 'symlink' : 'other';
}

async function closeCached(dir: CachedDir): Promise<void> {
  const handle = await dir.handle.catch(() => undefined);
  await handle?.close();
}
