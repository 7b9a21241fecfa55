/**
 * A remote sink with this host's object cache in front (object-cache.ts). Only objects that never change
 * are cached, and each read from the cache is checked against the object's SHA-256: the blobs and packs a
 * save names by it, and the manifests, by the hash HEAD records (getByContent). HEAD is read from the sink
 * every time (a save rewrites it), and so is every listing.
 */
import { createHash } from 'node:crypto';
import { contentHashOf, isManifestKey } from '../keys.ts';
import type { ObjectCache } from './object-cache.ts';
import { type Sink, SinkContentError, SinkError } from './sink.ts';

export class CachedSink implements Sink {
  readonly #sink: Sink;
  readonly #cache: ObjectCache;

  constructor(sink: Sink, cache: ObjectCache) {
    this.#sink = sink;
    this.#cache = cache;
  }

  get description(): string {
    return this.#sink.description;
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.#sink.put(key, body);
    const sha256 = isManifestKey(key) ? createHash('sha256').update(body).digest('hex') : contentHashOf(key);
    if (sha256 !== undefined) await this.#cache.write(this.#entry(key), sha256, body);
  }

  get(key: string): Promise<Buffer> {
    const sha256 = contentHashOf(key);
    return sha256 === undefined ? this.#sink.get(key) : this.getByContent(key, sha256);
  }

  async *stream(key: string): AsyncIterable<Buffer> {
    const sha256 = contentHashOf(key);
    if (sha256 === undefined) return yield* this.#sink.stream(key);
    yield* this.#streamContent(key, sha256);
  }

  /**
   * A blob or pack by the hash its key names, or a manifest by the hash HEAD records. A manifest is never
   * written twice under one key (every save takes a number after all the sink's), so its entry, like a
   * blob's, is known by the key, checked against the hash, and goes with a delete.
   */
  async getByContent(key: string, sha256: string): Promise<Buffer> {
    const entry = this.#entry(key);
    const cached = await this.#cache.read(entry, sha256);
    if (cached !== undefined) return cached;
    const body = await this.#sink.get(key);
    await this.#cache.write(entry, sha256, body);
    return body;
  }

  /**
   * The cache checks whatever it serves or fills against the object's hash anyway, so it vouches for the
   * content here and the snapshot store does not hash the same bytes again.
   */
  async *streamVerified(key: string, sha256: string): AsyncIterable<Buffer> {
    if (contentHashOf(key) !== sha256) throw new SinkError(`${key} is not the name of content ${sha256}`);
    if (!(yield* this.#streamContent(key, sha256))) throw new SinkContentError(key);
  }

  /** From the cache, or from the sink and into the cache: whether the content was what `sha256` names. */
  async *#streamContent(key: string, sha256: string): AsyncGenerator<Buffer, boolean> {
    const cached = await this.#cache.read(this.#entry(key), sha256);
    if (cached !== undefined) {
      yield cached;
      return true;
    }
    const fill = this.#cache.fill(this.#entry(key), sha256);
    try {
      for await (const piece of this.#sink.stream(key)) {
        fill.add(piece);
        yield piece;
      }
      return await fill.commit();
    } finally {
      fill.abandon();
    }
  }

  list(prefix: string): Promise<string[]> {
    return this.#sink.list(prefix);
  }

  /** Out of the cache first: an object gone from the sink must not go on being restored from here. */
  async delete(keys: string[]): Promise<void> {
    await this.#cache.remove(keys.map((key) => this.#entry(key)));
    await this.#sink.delete(keys);
  }

  /** Two sinks (two buckets, two prefixes) never share an entry. */
  #entry(key: string): string {
    return createHash('sha256').update(`${this.#sink.description}\n${key}`).digest('hex');
  }
}
