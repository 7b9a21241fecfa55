/**
 * Per-instance directories in memory, for what must never touch a disk (decrypted tenant secrets):
 * `/dev/shm/boilerhouse/<data dir hash>/<instance>`. The hash keeps daemons with different data directories
 * (and parallel tests) apart. Every level is a 0700 directory owned by the daemon, checked rather than
 * trusted: /dev/shm is writable by every local user, who could have put a directory or link there first.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

export const MEMORY_BASE = '/dev/shm/boilerhouse';
const MEMORY_FILESYSTEMS = new Set(['tmpfs', 'ramfs']);
const INSTANCE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export interface MemoryDirsOptions {
  /** Instead of /dev/shm/boilerhouse (tests). */
  base?: string;
  /** Instead of /proc/mounts (tests). */
  mountsFile?: string;
}

export class MemoryDirs {
  /** This daemon's directory: `<base>/<data dir hash>`. */
  readonly root: string;
  readonly #base: string;
  readonly #mountsFile: string;

  constructor(dataDir: string, options: MemoryDirsOptions = {}) {
    this.#base = options.base ?? MEMORY_BASE;
    this.#mountsFile = options.mountsFile ?? '/proc/mounts';
    const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
    this.root = join(this.#base, hash);
  }

  dir(instance: string): string {
    if (!INSTANCE_ID.test(instance)) throw new Error(`${JSON.stringify(instance)} is not an instance id`);
    return join(this.root, instance);
  }

  /** Creates (or keeps) the instance's directory, on a memory filesystem; returns its path. */
  async create(instance: string): Promise<string> {
    const dir = this.dir(instance);
    // Checked before anything is made in it, and again at the end, in case something is mounted between.
    await assertMemoryBacked(dirname(this.#base), this.#mountsFile);
    for (const level of [this.#base, this.root, dir]) await ownedPrivateDir(level);
    await assertMemoryBacked(dir, this.#mountsFile);
    return dir;
  }

  /** Creates (or keeps) this daemon's directory, checked as `create` checks; returns its path. */
  async createRoot(): Promise<string> {
    await assertMemoryBacked(dirname(this.#base), this.#mountsFile);
    for (const level of [this.#base, this.root]) await ownedPrivateDir(level);
    return this.root;
  }

  /** Removes the instance's directory and everything in it; nothing there is fine. */
  async remove(instance: string): Promise<void> {
    await rm(this.dir(instance), { recursive: true, force: true });
  }

  /** Ids of every instance that has a directory (to remove those no instance row names). */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.root)).filter((name) => INSTANCE_ID.test(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

/** Throws unless `path` is on tmpfs (or ramfs), as /proc/mounts tells. */
export async function assertMemoryBacked(path: string, mountsFile = '/proc/mounts'): Promise<void> {
  const real = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (real === undefined) throw notInMemory(`${path} does not exist`);
  const mount = mountOf(real, await readFile(mountsFile, 'utf8'));
  if (mount !== undefined && MEMORY_FILESYSTEMS.has(mount.type)) return;
  throw notInMemory(
    mount === undefined ? `${real} is on no listed mount` : `${real} is on ${mount.type} (${mount.point})`,
  );
}

function notInMemory(why: string): Error {
  return new Error(
    `secrets must be kept in memory, but ${why}; Boilerhouse needs a tmpfs at /dev/shm ` +
      '(mount one with `mount -t tmpfs -o mode=1777 tmpfs /dev/shm`)',
  );
}

/** The mount `path` (absolute, links resolved) lives on: the deepest mount point above it, the latest mount. */
export function mountOf(path: string, mounts: string): { point: string; type: string } | undefined {
  let found: { point: string; type: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [, rawPoint, type] = line.split(' ');
    if (rawPoint === undefined || type === undefined) continue;
    const point = unescapeMountField(rawPoint);
    const within = point === '/' || path === point || path.startsWith(point + sep);
    // Later lines mount over earlier ones at the same point, so ">=" keeps the last.
    if (within && (found === undefined || point.length >= found.point.length)) found = { point, type };
  }
  return found;
}

// /proc/mounts writes space, tab, newline and backslash in paths as octal escapes (\040).
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Makes `path` a directory only the daemon can enter: created 0700, or, when it exists, a real directory
 * (not a link) owned by the daemon, tightened to 0700.
 */
async function ownedPrivateDir(path: string): Promise<void> {
  await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const info = await lstat(path);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
    throw new Error(
      `${path} is not a directory owned by the daemon (uid ${uid}); remove it so that Boilerhouse can make its own`,
    );
  }
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o700);
}
