/**
 * `rm -rf` of a directory a tenant wrote to, without following links: Node's rm works by path, so a
 * directory swapped for a link while it runs would make root delete whatever the link points to. Here each
 * entry is removed through its parent's open descriptor (see beneath.ts): unlink and rmdir never follow
 * the name they remove, and a directory is entered only by opening it with O_NOFOLLOW. Names are handled
 * as bytes, so a name that is not UTF-8 cannot make a tree impossible to remove.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { MAX_DEPTH, named } from './beneath.ts';

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** A tree that keeps changing under the removal (the tenant still writing) fails after this many passes. */
const ATTEMPTS = 8;

type Name = string | Buffer;

function through(fd: number, name?: Name): string | Buffer {
  if (name === undefined) return `/proc/self/fd/${fd}`;
  return typeof name === 'string'
    ? `/proc/self/fd/${fd}/${name}`
    : Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}

/**
 * Removes `name` in directory `dir` and everything below it; nothing there is fine. A tree deeper than
 * MAX_DEPTH is cut: its deep part is moved up beside `name` (as `<name>.removing-<random>`) and removed in
 * turn, so at most MAX_DEPTH descriptors are open at once.
 */
export async function removeBeneath(dir: string, name: string): Promise<void> {
  const parent = await open(dir, DIRECTORY).catch((error: unknown) => {
    throw named(dir, error);
  });
  try {
    const queue: string[] = [name];
    const spill = async (fd: number, deep: Name, label: string) => {
      const moved = `${name}.removing-${randomUUID().slice(0, 8)}`;
      await rename(through(fd, deep), through(parent.fd, moved)).catch((error: unknown) => {
        throw named(label, error);
      });
      queue.push(moved);
    };
    for (let next = 0; next < queue.length; next++) {
      const entry = queue[next] as string;
      await removeEntry(parent.fd, entry, entry, 0, spill);
    }
  } finally {
    await parent.close();
  }
}

type Spill = (fd: number, name: Name, label: string) => Promise<void>;

async function removeEntry(
  dirFd: number,
  name: Name,
  label: string,
  depth: number,
  spill: Spill,
): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // Anything but a directory (file, link, FIFO) goes with unlink; a directory answers EISDIR.
    const unlinked = await unlink(through(dirFd, name)).then(
      () => true,
      (error: unknown) => {
        if (code(error) === 'ENOENT') return true;
        if (code(error) === 'EISDIR') return false;
        throw named(label, error);
      },
    );
    if (unlinked) return;
    if (depth >= MAX_DEPTH) return spill(dirFd, name, label);
    let child: FileHandle;
    try {
      child = await open(through(dirFd, name), DIRECTORY);
    } catch (error) {
      if (code(error) === 'ENOENT') return;
      // Swapped for a link or a file since unlink saw a directory: go round again.
      if (code(error) === 'ELOOP' || code(error) === 'ENOTDIR') continue;
      throw named(label, error);
    }
    try {
      const entries = await readdir(through(child.fd), { encoding: 'buffer' }).catch((error: unknown) => {
        throw named(label, error);
      });
      for (const entry of entries) {
        await removeEntry(child.fd, entry, `${label}/${entry.toString()}`, depth + 1, spill);
      }
    } finally {
      await child.close();
    }
    const removed = await rmdir(through(dirFd, name)).then(
      () => true,
      (error: unknown) => {
        if (code(error) === 'ENOENT') return true;
        // Written to (or swapped) while it was being emptied: go round again.
        if (code(error) === 'ENOTEMPTY' || code(error) === 'ENOTDIR') return false;
        throw named(label, error);
      },
    );
    if (removed) return;
  }
  throw new Error(`${label}: kept changing while it was being removed; not removed`);
}
