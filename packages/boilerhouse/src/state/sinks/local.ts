/**
 * A sink in a directory on this host: each key is a file under it. An object is written to a temporary
 * file beside its key, fsynced and renamed over the key, so a reader (or a restart after a crash) sees the
 * old object or the new one, never a part. A key cannot be both an object and a folder of objects (`a`
 * and `a/b`): such a put fails with a SinkError.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { checkKey, checkPrefix, compareKeys, TEMP_MARK } from './keys.ts';
import { type Sink, SinkError, SinkNotFoundError } from './sink.ts';

/** What `stream` reads at a time. */
const STREAM_PIECE_BYTES = 1024 * 1024;
/** Errors that mean "no object under this key" (a missing file, or a folder where the file would be). */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

export class LocalSink implements Sink {
  readonly description: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = resolve(root);
    this.description = `local:${this.#root}`;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    let temp: string | undefined;
    try {
      const created = await mkdir(dir, { recursive: true });
      const file = await this.#openTemp(dir);
      temp = file.path;
      try {
        await file.handle.writeFile(body);
        await file.handle.sync();
      } finally {
        await file.handle.close();
      }
      await rename(temp, path);
      temp = undefined;
      // The rename, and any folder just made, last only once their parent folders are synced too.
      for (const folder of foldersToSync(dir, created)) await syncDir(folder);
    } catch (error) {
      if (temp !== undefined) await unlink(temp).catch(() => {});
      throw new SinkError(`put ${key} in ${this.description} failed: ${messageOf(error)}`, { cause: error });
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.#path(key);
    try {
      return await readFile(path);
    } catch (error) {
      throw this.#readError('get', key, error);
    }
  }

  async *stream(key: string): AsyncIterable<Buffer> {
    const path = this.#path(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw this.#readError('get', key, error);
    }
    try {
      for (;;) {
        const piece = Buffer.allocUnsafe(STREAM_PIECE_BYTES);
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(piece, 0, piece.length, null));
        } catch (error) {
          throw this.#readError('get', key, error);
        }
        if (bytesRead === 0) return;
        yield piece.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    // Walk only the deepest folder the prefix names whole: `saves/00` walks `saves/`.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    try {
      await walk(join(this.#root, folder), folder, keys);
    } catch (error) {
      throw new SinkError(`list ${prefix} in ${this.description} failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return keys.filter((key) => key.startsWith(prefix)).sort(compareKeys);
  }

  async delete(keys: string[]): Promise<void> {
    const paths = keys.map((key) => this.#path(key));
    for (const [index, path] of paths.entries()) {
      try {
        await unlink(path);
      } catch (error) {
        if (MISSING.has(codeOf(error))) continue;
        throw new SinkError(`delete ${keys[index]} in ${this.description} failed: ${messageOf(error)}`, {
          cause: error,
        });
      }
      await this.#removeEmptyFolders(dirname(path));
    }
  }

  #path(key: string): string {
    checkKey(key);
    return join(this.#root, key);
  }

  /** A new temporary file in `dir`; a delete may remove an emptied `dir` meanwhile, so make it again. */
  async #openTemp(dir: string): Promise<{ path: string; handle: FileHandle }> {
    for (let attempt = 1; ; attempt++) {
      const path = join(dir, `${TEMP_MARK}${randomBytes(8).toString('hex')}`);
      try {
        return { path, handle: await open(path, 'wx', 0o600) };
      } catch (error) {
        if (codeOf(error) !== 'ENOENT' || attempt === 3) throw error;
        await mkdir(dir, { recursive: true });
      }
    }
  }

  /** Removes `dir` and its parents up to the root while they are empty. */
  async #removeEmptyFolders(dir: string): Promise<void> {
    for (let folder = dir; folder !== this.#root && folder.startsWith(this.#root + sep); ) {
      try {
        await rmdir(folder);
      } catch {
        return; // not empty (or already gone): its parents are not empty either
      }
      folder = dirname(folder);
    }
  }

  #readError(operation: string, key: string, error: unknown): Error {
    if (MISSING.has(codeOf(error))) return new SinkNotFoundError(key);
    return new SinkError(`${operation} ${key} in ${this.description} failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Appends every non-temporary file under `dir` to `keys` as `<key prefix>/<name>`. */
async function walk(dir: string, keyPrefix: string, keys: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (MISSING.has(codeOf(error))) return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_MARK)) continue;
    const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
    if (entry.isDirectory()) await walk(join(dir, entry.name), key, keys);
    else if (entry.isFile()) keys.push(key);
  }
}

/** `dir` (which holds the renamed file) and, when mkdir made folders, the parent of each folder it made. */
function foldersToSync(dir: string, firstCreated: string | undefined): string[] {
  const folders = [dir];
  if (firstCreated === undefined) return folders;
  // firstCreated is `dir` or one of its parents, so this walk up ends.
  for (let folder = dir; folder !== dirname(firstCreated); ) {
    folder = dirname(folder);
    folders.push(folder);
  }
  return folders;
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
