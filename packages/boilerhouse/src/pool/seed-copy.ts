/**
 * Copies a workload's `seed` (a path relative to the workloads directory) into a new instance's volume.
 * The daemon runs as root and workload authors are trusted less than the operator, so the copy never leaves
 * the workloads directory and never reads through a link:
 * - the seed is walked one name at a time beneath the directory already open (`/proc/self/fd/N/name`, as
 *   Node has no openat): lstat first, then open with O_NOFOLLOW, and the opened fd must be the inode lstat
 *   saw, so a name swapped between the two calls is refused rather than followed;
 * - a seed that is a link, or whose path passes through one, is refused;
 * - a link inside a directory seed is copied as a link (its text, never what it points at): in the container
 *   it resolves against the container's own files, which gives the tenant nothing it could not make itself;
 * - a directory the daemon keeps to itself (its data directory: the database and secret.key) is refused
 *   wherever the walk meets it, by inode, so an odd setup with it inside the workloads directory (or mounted
 *   there) gives nothing away;
 * - devices, FIFOs and sockets are refused; set-id bits are dropped.
 */
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  stat,
  symlink,
} from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';

export class SeedError extends Error {}

export interface SeedCopy {
  workloadsDir: string;
  /** Relative to `workloadsDir`, as the workload file writes it. */
  seed: string;
  /** The volume's host path, just made (empty); a file when `fileTarget`. */
  destination: string;
  fileTarget: boolean;
  /** Directories never copied from, found by inode, with what to call them (never their paths). */
  private: { path: string; what: string }[];
}

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: opening a FIFO swapped in after the lstat must not hang the copy (it is refused after fstat).
const FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const COPY_CHUNK = 256 * 1024;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export async function copySeed(copy: SeedCopy): Promise<void> {
  const names = posix
    .normalize(copy.seed)
    .split('/')
    .filter((name) => name !== '');
  if (isAbsolute(copy.seed) || names.length === 0 || names[0] === '..' || names[0] === '.') {
    throw new SeedError(`seed "${copy.seed}" must be a path inside the workloads directory`);
  }
  const walk = new Walk(copy.seed, await identities(copy.private));
  let dir = await open(copy.workloadsDir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    walk.checkPrivate(await dir.stat(), copy.workloadsDir);
    for (const [index, name] of names.entries()) {
      const at = names.slice(0, index + 1).join('/');
      const seen = await lstat(beneath(dir, name));
      if (seen.isSymbolicLink()) {
        throw new SeedError(
          `seed "${copy.seed}": ${at} is a symbolic link; a seed is never read through a link`,
        );
      }
      if (index < names.length - 1) {
        const next = await walk.openDirectory(dir, name, seen, at);
        await dir.close();
        dir = next;
        continue;
      }
      if (seen.isDirectory()) {
        if (copy.fileTarget)
          throw new SeedError(`seed "${copy.seed}" is a directory, but the volume is a file`);
        const top = await walk.openDirectory(dir, name, seen, at);
        try {
          await walk.copyDirectory(top, copy.destination, at);
        } finally {
          await top.close();
        }
      } else {
        if (!copy.fileTarget && seen.isFile()) {
          throw new SeedError(`seed "${copy.seed}" is a file, but the volume is a directory`);
        }
        await walk.copyFile(dir, name, seen, copy.destination, at, { replace: true });
      }
    }
  } finally {
    await dir.close();
  }
}

class Walk {
  readonly #seed: string;
  readonly #private: Map<string, string>;

  constructor(seed: string, privateDirs: Map<string, string>) {
    this.#seed = seed;
    this.#private = privateDirs;
  }

  checkPrivate(stats: Stats, at: string): void {
    const owner = this.#private.get(inode(stats));
    if (owner !== undefined) {
      throw new SeedError(`seed "${this.#seed}": ${at} is ${owner}, which is never copied into an instance`);
    }
  }

  async openDirectory(parent: FileHandle, name: string, seen: Stats, at: string): Promise<FileHandle> {
    if (!seen.isDirectory()) throw new SeedError(`seed "${this.#seed}": ${at} is not a directory`);
    const handle = await open(beneath(parent, name), DIRECTORY);
    try {
      const opened = await handle.stat();
      this.#checkSame(seen, opened, at);
      this.checkPrivate(opened, at);
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async copyDirectory(source: FileHandle, destination: string, at: string): Promise<void> {
    for (const name of await readdir(`/proc/self/fd/${source.fd}`)) {
      const path = `${at}/${name}`;
      const target = join(destination, name);
      const seen = await lstat(beneath(source, name));
      if (seen.isSymbolicLink()) {
        await symlink(await readlink(beneath(source, name)), target);
      } else if (seen.isDirectory()) {
        const child = await this.openDirectory(source, name, seen, path);
        try {
          await mkdir(target, { mode: 0o700 });
          await this.copyDirectory(child, target, path);
          await chmod(target, (await child.stat()).mode & 0o777);
        } finally {
          await child.close();
        }
      } else {
        await this.copyFile(source, name, seen, target, path, { replace: false });
      }
    }
  }

  async copyFile(
    parent: FileHandle,
    name: string,
    seen: Stats,
    target: string,
    at: string,
    options: { replace: boolean },
  ): Promise<void> {
    if (!seen.isFile()) {
      throw new SeedError(`seed "${this.#seed}": ${at} is not a regular file, directory or link; not copied`);
    }
    const source = await open(beneath(parent, name), FILE);
    try {
      const opened = await source.stat();
      this.#checkSame(seen, opened, at);
      const flags = options.replace ? constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW : CREATE;
      const out = await open(target, flags, 0o600);
      try {
        await copyBytes(source, out);
        // Permissions as the seed has them, without set-id bits: nothing in a volume runs as its owner.
        await out.chmod(opened.mode & 0o777);
      } finally {
        await out.close();
      }
    } finally {
      await source.close();
    }
  }

  #checkSame(seen: Stats, opened: Stats, at: string): void {
    if (
      inode(seen) !== inode(opened) ||
      (seen.mode & constants.S_IFMT) !== (opened.mode & constants.S_IFMT)
    ) {
      throw new SeedError(`seed "${this.#seed}": ${at} changed while it was being copied; not copied`);
    }
  }
}

async function copyBytes(source: FileHandle, out: FileHandle): Promise<void> {
  const buffer = Buffer.allocUnsafe(COPY_CHUNK);
  for (;;) {
    const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return;
    for (let written = 0; written < bytesRead; ) {
      written += (await out.write(buffer, written, bytesRead - written)).bytesWritten;
    }
  }
}

/** `name` inside the directory `dir` has open: its last component is looked at, never followed. */
function beneath(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

function inode(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** Inode -> what each private directory is, for those that exist (one not made yet holds nothing). */
async function identities(dirs: SeedCopy['private']): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { path, what } of dirs) {
    const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (found !== undefined) out.set(inode(found), what);
  }
  return out;
}
