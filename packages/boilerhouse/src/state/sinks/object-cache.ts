/**
 * A bounded cache, on this host's disk, of the content-addressed objects of a remote sink's saves (the
 * chunks of large files and the packs of small ones), so that a tenant claimed again on this host reads
 * them from disk instead of the bucket. An entry is checked against the SHA-256 it was stored under
 * whenever it is read; one that does not match is dropped and the object read from the sink, so the cache
 * can make a restore slower, never wrong. The sink stays the record: an entry is written only after its
 * object was put in the sink or read from it, and a cache that cannot be written or read is a slower
 * restore and a warning, never a failed save or restore.
 *
 * Entries are never fsynced: a torn one (the host lost power) fails its check and is dropped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, statfs, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotFound } from '../beneath.ts';

/** What the cache may hold unless the operator says otherwise (BOILERHOUSE_STATE_CACHE_MIB). */
export const DEFAULT_STATE_CACHE_BYTES = 2 * 1024 ** 3;
/** An entry's file name: the hex SHA-256 of the sink and key it caches (named by the caller). */
const ENTRY_NAME = /^[0-9a-f]{64}$/;
const PART_SUFFIX = '.part';
/** A fill is skipped when it would leave less of the disk free than this: tenants' volumes share it. */
const KEEP_FREE_FRACTION = 0.1;

export interface ObjectCacheOptions {
  dir: string;
  /** The most the entries may hold; the least recently used go first. */
  maxBytes: number;
  warn(message: string, error: unknown): void;
}

export interface ObjectCacheStats {
  hits: number;
  hitBytes: number;
  misses: number;
  /** Entries that could not be read or written, or were damaged (each also a warning). */
  errors: number;
  /** Fills skipped because the disk was nearly full. */
  skipped: number;
  entries: number;
  bytes: number;
}

export class ObjectCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #warn: ObjectCacheOptions['warn'];
  /** Entry name -> size, least recently used first. */
  readonly #entries = new Map<string, number>();
  #bytes = 0;
  /**
   * Settles on the first use (after the daemon has made its data directory its own), false when the
   * folder could not be opened: every read then misses and nothing is written.
   */
  #loaded: Promise<boolean> | undefined;
  readonly #counts = { hits: 0, hitBytes: 0, misses: 0, errors: 0, skipped: 0 };

  constructor(options: ObjectCacheOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#warn = options.warn;
  }

  stats(): ObjectCacheStats {
    return { ...this.#counts, entries: this.#entries.size, bytes: this.#bytes };
  }

  /** The entry's content when it is here and is what `sha256` names; undefined otherwise. */
  async read(name: string, sha256: string): Promise<Buffer | undefined> {
    if (!(await this.#usable()) || !this.#entries.has(name)) return this.#missed();
    const path = join(this.#dir, name);
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch (error) {
      // Evicted between the check and the read is a miss like any other.
      if (!isNotFound(error)) this.#failed(`could not read the cached object ${name}`, error);
      this.#forget(name);
      return this.#missed();
    }
    if (createHash('sha256').update(body).digest('hex') !== sha256) {
      this.#failed(`the cached object ${name} is damaged; dropped, read from the sink`, undefined);
      await this.#remove(name);
      return this.#missed();
    }
    this.#entries.delete(name);
    this.#entries.set(name, body.length);
    // The order survives a restart through the files' times.
    const now = new Date();
    await utimes(path, now, now).catch((error) => {
      if (!isNotFound(error)) this.#failed(`could not mark the cached object ${name} as used`, error);
    });
    this.#counts.hits += 1;
    this.#counts.hitBytes += body.length;
    return body;
  }

  /** Caches a whole object. */
  async write(name: string, sha256: string, body: Buffer): Promise<void> {
    const fill = this.fill(name, sha256);
    fill.add(body);
    await fill.commit();
  }

  /**
   * Caches an object as it arrives in pieces: the entry exists once `commit` finds that the pieces hash
   * to `sha256` (which it answers) and has written them. `abandon` lets go of an object that was not read
   * to its end.
   */
  fill(name: string, sha256: string): ObjectFill {
    const hash = createHash('sha256');
    // A chunk is at most a few MiB (the snapshot store's chunk size): its pieces are held until the end.
    let pieces: Buffer[] = [];
    let size = 0;
    return {
      add: (piece) => {
        hash.update(piece);
        pieces.push(piece);
        size += piece.length;
      },
      commit: async () => {
        const held = pieces;
        pieces = [];
        const intact = hash.digest('hex') === sha256;
        if (intact) await this.#store(name, held, size);
        return intact;
      },
      abandon: () => {
        pieces = [];
      },
    };
  }

  async remove(names: string[]): Promise<void> {
    if (!(await this.#usable())) return;
    for (const name of names) if (this.#entries.has(name)) await this.#remove(name);
  }

  /** Writes the entry beside its name and renames it in, then evicts down to the bound. */
  async #store(name: string, pieces: Buffer[], size: number): Promise<void> {
    if (!(await this.#usable()) || size > this.#maxBytes) return;
    const part = join(this.#dir, `${name}.${randomBytes(6).toString('hex')}${PART_SUFFIX}`);
    try {
      const disk = await statfs(this.#dir);
      if ((disk.bavail * disk.bsize - size) / (disk.blocks * disk.bsize) < KEEP_FREE_FRACTION) {
        this.#counts.skipped += 1;
        return;
      }
      const handle = await open(part, 'wx', 0o600);
      try {
        const { bytesWritten } = await handle.writev(pieces);
        if (bytesWritten !== size) throw new Error(`wrote ${bytesWritten} of ${size} bytes`);
      } finally {
        await handle.close();
      }
      await rename(part, join(this.#dir, name));
    } catch (error) {
      this.#failed(`could not cache the object ${name}`, error);
      await this.#discard(part);
      return;
    }
    this.#forget(name);
    this.#entries.set(name, size);
    this.#bytes += size;
    await this.#evict();
  }

  async #evict(): Promise<void> {
    for (const [oldest] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) return;
      await this.#remove(oldest);
    }
  }

  async #discard(part: string): Promise<void> {
    await unlink(part).catch((error) => {
      if (!isNotFound(error)) this.#failed(`could not remove the partly cached object ${part}`, error);
    });
  }

  #usable(): Promise<boolean> {
    this.#loaded ??= this.#load();
    return this.#loaded;
  }

  #failed(message: string, error: unknown): void {
    this.#counts.errors += 1;
    this.#warn(`state object cache (${this.#dir}): ${message}`, error);
  }

  #missed(): undefined {
    this.#counts.misses += 1;
    return undefined;
  }

  async #remove(name: string): Promise<void> {
    try {
      await unlink(join(this.#dir, name));
    } catch (error) {
      // Kept in the index when it cannot go, so that the bound still counts its bytes.
      if (!isNotFound(error)) return this.#failed(`could not evict the cached object ${name}`, error);
    }
    this.#forget(name);
  }

  #forget(name: string): void {
    const size = this.#entries.get(name);
    if (size === undefined) return;
    this.#entries.delete(name);
    this.#bytes -= size;
  }

  /** Indexes what an earlier run left, oldest use first; parts of fills it did not finish are removed. */
  async #load(): Promise<boolean> {
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      const found: { name: string; size: number; used: number }[] = [];
      for (const name of await readdir(this.#dir)) {
        if (name.endsWith(PART_SUFFIX)) {
          await this.#discard(join(this.#dir, name));
          continue;
        }
        if (!ENTRY_NAME.test(name)) continue;
        const info = await stat(join(this.#dir, name));
        if (info.isFile()) found.push({ name, size: info.size, used: info.mtimeMs });
      }
      found.sort((a, b) => a.used - b.used);
      for (const { name, size } of found) {
        this.#entries.set(name, size);
        this.#bytes += size;
      }
      await this.#evict();
      return true;
    } catch (error) {
      this.#failed('cannot be used; every object is read from the sink', error);
      return false;
    }
  }
}

/** One object being cached as it arrives (ObjectCache.fill). */
export interface ObjectFill {
  add(piece: Buffer): void;
  /** Whether the pieces were what the SHA-256 names; stored if so (when there is room). */
  commit(): Promise<boolean>;
  abandon(): void;
}
