/**
 * A directory an agent can write, opened once without following links and then used only through its
 * descriptor (`/proc/self/fd/N/name`): whatever the agent swaps in between two of our calls (a directory
 * for a link to the host's own files, say), every list, read, write and removal here stays in the very
 * directory that was opened. Names are single path segments; entries are never followed when they are
 * links, and only regular files are read, up to a size.
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename } from 'node:path';

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export class NotARegularFileError extends Error {}
export class TooLargeError extends Error {}

export class BeneathDir {
  readonly #fd: number;
  /** What the directory was opened as, for messages. */
  readonly path: string;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.path = path;
  }

  /** Opens `path`, whose last segment must be a real directory; undefined when it does not exist. */
  static open(path: string): BeneathDir | undefined {
    try {
      return new BeneathDir(openSync(path, DIRECTORY_FLAGS), path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** A subdirectory, itself no link; undefined when it does not exist. */
  sub(name: string): BeneathDir | undefined {
    try {
      return new BeneathDir(openSync(this.#at(name), DIRECTORY_FLAGS), `${this.path}/${name}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Subdirectory `name`, made (owned by uid and gid `owner` when given) if it is not there; throws when the
   * entry is something else, a link included.
   */
  ensureSub(name: string, owner?: number): BeneathDir {
    try {
      mkdirSync(this.#at(name), 0o755);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return this.sub(name) as BeneathDir;
    }
    const dir = this.sub(name) as BeneathDir;
    if (owner !== undefined) fchownSync(dir.#fd, owner, owner);
    return dir;
  }

  list(): string[] {
    return readdirSync(this.#at('.'));
  }

  /** The content of regular file `name`: ENOENT when gone, a typed error when not a file or too large. */
  read(name: string, maxBytes: number): Buffer {
    const fd = openSync(this.#at(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new NotARegularFileError(`${name} is not a regular file`);
      if (stats.size > maxBytes) throw new TooLargeError(`${name} is larger than ${maxBytes} bytes`);
      // Read one byte past the limit: a file that grows after the stat is still caught.
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const read = readSync(fd, buffer, length, buffer.length - length, null);
        if (read === 0) break;
        length += read;
        if (length > maxBytes) throw new TooLargeError(`${name} is larger than ${maxBytes} bytes`);
      }
      return buffer.subarray(0, length);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Writes `name` whole or not at all: a new temporary file (never an existing entry), then a rename;
   * owned by uid and gid `owner` when given.
   */
  write(name: string, content: string, owner?: number): void {
    renameSync(this.#at(this.#writeTemporary(name, content, owner)), this.#at(name));
  }

  /**
   * Writes a new file `name` whole, or answers false when the name is taken (by anything, a link
   * included): a temporary file, then a hard link to the name, which never replaces an entry.
   */
  writeNew(name: string, content: Uint8Array, owner?: number): boolean {
    const temporary = this.#writeTemporary(name, content, owner);
    try {
      linkSync(this.#at(temporary), this.#at(name));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      unlinkSync(this.#at(temporary));
    }
  }

  /**
   * Removes entry `name` (a link is removed, not followed); false when it was already gone, or is a
   * directory (never walked: its insides could change under the walk).
   */
  remove(name: string): boolean {
    try {
      unlinkSync(this.#at(name));
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return false;
      throw error;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** A new temporary file beside `name` holding `content`; its name. */
  #writeTemporary(name: string, content: string | Uint8Array, owner: number | undefined): string {
    const temporary = `.${name}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(
      this.#at(temporary),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      // writeSync may write less than asked of a large buffer.
      const bytes = typeof content === 'string' ? Buffer.from(content) : content;
      for (let written = 0; written < bytes.length; )
        written += writeSync(fd, bytes, written, bytes.length - written);
      if (owner !== undefined) fchownSync(fd, owner, owner);
    } finally {
      closeSync(fd);
    }
    return temporary;
  }

  #at(name: string): string {
    if (name !== '.' && (name === '..' || name === '' || basename(name) !== name))
      throw new Error(`"${name}" is not a single path segment`);
    return `/proc/self/fd/${this.#fd}/${name}`;
  }
}

/** Runs `use` on the directory at `path` and closes it after; undefined when the directory does not exist. */
export function withDir<T>(path: string, use: (dir: BeneathDir) => T): T | undefined {
  const dir = BeneathDir.open(path);
  if (dir === undefined) return undefined;
  try {
    return use(dir);
  } finally {
    dir.close();
  }
}
