import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whenMissing } from '../../testing/missing.ts';
import { blobKey, contentHashOf, headKey, packKey, saveKey } from '../keys.ts';
import { CachedSink } from './cached-sink.ts';
import { LocalSink } from './local.ts';
import { ObjectCache } from './object-cache.ts';
import { runSinkContract } from './sink.contract.ts';
import { SinkContentError, SinkNotFoundError } from './sink.ts';

const BASE = 'alice/echo/';
const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** Reads an object through `stream`, as a restore does. */
async function streamed(sink: CachedSink, key: string): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of sink.stream(key)) pieces.push(piece);
  return Buffer.concat(pieces);
}

describe('CachedSink', () => {
  runSinkContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'boilerhouse-cached-sink-'));
    const cache = new ObjectCache({ dir: join(dir, 'cache'), maxBytes: 64 * 1024 ** 2, warn: () => {} });
    return {
      sink: new CachedSink(new LocalSink(join(dir, 'sink')), cache),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });

  // The sink behind the cache is a local one whose files the tests take away or damage, to see which of
  // the two answered.
  describe('in front of a sink', () => {
    let dir: string;
    let warnings: string[];
    let inner: LocalSink;
    const cacheDir = () => join(dir, 'cache');
    const openCache = (maxBytes = 64 * 1024 ** 2) =>
      new ObjectCache({ dir: cacheDir(), maxBytes, warn: (message) => warnings.push(message) });
    /** The cache's files; it makes its folder only when first used. */
    const entries = async () => (await readdir(cacheDir()).catch(whenMissing([]))).sort();
    /** Puts `body` in the sink under its blob key, behind the cache's back. */
    const putBehind = async (body: Buffer) => {
      const key = blobKey(BASE, sha(body));
      await inner.put(key, body);
      return key;
    };
    const takeAway = (key: string) => unlink(join(dir, 'sink', key));

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'boilerhouse-cached-sink-'));
      warnings = [];
      inner = new LocalSink(join(dir, 'sink'));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('knows content keys by their hash, and nothing else', () => {
      const hash = sha(Buffer.from('x'));
      expect(contentHashOf(blobKey(BASE, hash))).toBe(hash);
      expect(contentHashOf(packKey(BASE, hash))).toBe(hash);
      expect(contentHashOf(blobKey('', hash))).toBe(hash);
      expect(contentHashOf(headKey(BASE))).toBeUndefined();
      expect(contentHashOf(saveKey(BASE, 7))).toBeUndefined();
      expect(contentHashOf(`${BASE}blobs/00/${hash}`)).toBeUndefined();
      expect(contentHashOf(`${BASE}notblobs/${hash.slice(0, 2)}/${hash}`)).toBeUndefined();
    });

    it("serves what a save put from this host's disk, by get and by stream", async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const chunk = randomBytes(3 * 1024 * 1024);
      const pack = randomBytes(10_000);
      const chunkKey = blobKey(BASE, sha(chunk));
      const packObject = packKey(BASE, sha(pack));
      await sink.put(chunkKey, chunk);
      await sink.put(packObject, pack);
      await takeAway(chunkKey);
      await takeAway(packObject);
      expect((await streamed(sink, chunkKey)).equals(chunk)).toBe(true);
      expect((await sink.get(packObject)).equals(pack)).toBe(true);
      expect(cache.stats()).toMatchObject({ hits: 2, hitBytes: chunk.length + pack.length, misses: 0 });
      expect(cache.stats().bytes).toBe(chunk.length + pack.length);
    });

    it('reads HEAD from the sink every time, and a manifest unless asked for it by its hash', async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      await sink.put(headKey(BASE), Buffer.from('{"seq":1}'));
      await inner.put(headKey(BASE), Buffer.from('{"seq":2}'));
      expect((await sink.get(headKey(BASE))).toString()).toBe('{"seq":2}');
      expect(await entries()).toEqual([]);
      // A save's manifest is cached as it is put, and read from the cache by the hash HEAD records.
      const manifest = Buffer.from('{"seq":1}');
      await sink.put(saveKey(BASE, 1), manifest);
      await inner.put(saveKey(BASE, 1), Buffer.from('what the sink holds now'));
      expect((await sink.get(saveKey(BASE, 1))).toString()).toBe('what the sink holds now');
      expect((await sink.getByContent(saveKey(BASE, 1), sha(manifest))).equals(manifest)).toBe(true);
      expect(cache.stats().hits).toBe(1);
    });

    it('reads a manifest the cache does not hold from the sink, and keeps it only when it matches its hash', async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const manifest = Buffer.from('{"seq":3}');
      await inner.put(saveKey(BASE, 3), manifest);
      await inner.put(saveKey(BASE, 4), Buffer.from('torn'));
      expect((await sink.getByContent(saveKey(BASE, 3), sha(manifest))).equals(manifest)).toBe(true);
      // Content that is not what HEAD recorded is the snapshot store's to judge; it is not kept.
      expect((await sink.getByContent(saveKey(BASE, 4), sha(manifest))).toString()).toBe('torn');
      expect(await entries()).toHaveLength(1);
      await takeAway(saveKey(BASE, 3));
      expect((await sink.getByContent(saveKey(BASE, 3), sha(manifest))).equals(manifest)).toBe(true);
      // Deleted from the sink (a save pruned), it is gone from the cache too.
      await sink.delete([saveKey(BASE, 3)]);
      expect(await entries()).toEqual([]);
    });

    it('caches an object a restore read whole from the sink, not one it stopped reading', async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const read = await putBehind(randomBytes(2 * 1024 * 1024));
      const stopped = await putBehind(randomBytes(2 * 1024 * 1024));
      const got = await putBehind(randomBytes(1000));
      await streamed(sink, read);
      for await (const _ of sink.stream(stopped)) break;
      await sink.get(got);
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 3 });
      await takeAway(read);
      await takeAway(got);
      expect((await streamed(sink, read)).length).toBe(2 * 1024 * 1024);
      expect((await sink.get(got)).length).toBe(1000);
      expect(cache.stats().hits).toBe(2);
      await expect(streamed(sink, stopped)).resolves.toHaveLength(2 * 1024 * 1024);
      expect(cache.stats().misses).toBe(4);
    });

    it('never caches content that is not what its key names', async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const key = blobKey(BASE, sha(Buffer.from('what the save recorded')));
      await inner.put(key, Buffer.from('something else'));
      expect((await sink.get(key)).toString()).toBe('something else');
      expect((await streamed(sink, key)).toString()).toBe('something else');
      expect(await entries()).toEqual([]);
    });

    it('vouches for content by its hash: from the cache, or from the sink and into the cache', async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const body = randomBytes(2 * 1024 * 1024);
      const key = await putBehind(body);
      const verified = async () => {
        const pieces: Buffer[] = [];
        for await (const piece of sink.streamVerified(key, sha(body))) pieces.push(piece);
        return Buffer.concat(pieces);
      };
      expect((await verified()).equals(body)).toBe(true);
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, entries: 1 });
      await takeAway(key);
      expect((await verified()).equals(body)).toBe(true);
      expect(cache.stats().hits).toBe(1);
    });

    it('refuses, once it is read, content that is not what its hash names, and caches none of it', async () => {
      const sink = new CachedSink(inner, openCache());
      const recorded = sha(Buffer.from('what the save recorded'));
      const key = blobKey(BASE, recorded);
      await inner.put(key, Buffer.from('something else'));
      const read = async (name: string, sha256: string) => {
        for await (const _ of sink.streamVerified(name, sha256));
      };
      await expect(read(key, recorded)).rejects.toBeInstanceOf(SinkContentError);
      expect(await entries()).toEqual([]);
      // A key that is not the name of that content is the caller's mistake, refused before any read.
      await expect(read(headKey(BASE), recorded)).rejects.toThrow(
        `${headKey(BASE)} is not the name of content`,
      );
    });

    it('drops a damaged entry and reads the sink instead', async () => {
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const body = randomBytes(100_000);
      const key = blobKey(BASE, sha(body));
      await sink.put(key, body);
      const [entry] = await entries();
      const damaged = await readFile(join(cacheDir(), entry as string));
      damaged[500] = (damaged[500] as number) ^ 0xff;
      await writeFile(join(cacheDir(), entry as string), damaged);
      expect((await streamed(sink, key)).equals(body)).toBe(true);
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, errors: 1 });
      expect(warnings).toEqual([expect.stringContaining('is damaged; dropped, read from the sink')]);
      // Read whole from the sink, it is cached again, intact.
      await takeAway(key);
      expect((await sink.get(key)).equals(body)).toBe(true);
      expect(cache.stats().hits).toBe(1);
    });

    it('forgets what is deleted from the sink', async () => {
      const sink = new CachedSink(inner, openCache());
      const body = randomBytes(1000);
      const key = blobKey(BASE, sha(body));
      await sink.put(key, body);
      await sink.delete([key]);
      await expect(sink.get(key)).rejects.toBeInstanceOf(SinkNotFoundError);
      expect(await entries()).toEqual([]);
    });

    it('holds at most its bound, the least recently read going first', async () => {
      const cache = openCache(250_000);
      const sink = new CachedSink(inner, cache);
      const [a, b, c] = [randomBytes(100_000), randomBytes(100_000), randomBytes(100_000)];
      const keyOf = (body: Buffer) => blobKey(BASE, sha(body));
      await sink.put(keyOf(a), a);
      await sink.put(keyOf(b), b);
      await sink.get(keyOf(a));
      await sink.put(keyOf(c), c);
      expect(cache.stats()).toMatchObject({ entries: 2, bytes: 200_000 });
      for (const body of [a, b, c]) await takeAway(keyOf(body));
      expect((await sink.get(keyOf(a))).equals(a)).toBe(true);
      expect((await sink.get(keyOf(c))).equals(c)).toBe(true);
      await expect(sink.get(keyOf(b))).rejects.toBeInstanceOf(SinkNotFoundError);
      // An object larger than the whole bound is not cached at all.
      const large = randomBytes(300_000);
      await sink.put(keyOf(large), large);
      expect(cache.stats()).toMatchObject({ entries: 2, bytes: 200_000 });
    });

    it('picks up what an earlier run cached, removes its unfinished parts, and keeps a smaller bound', async () => {
      const first = new CachedSink(inner, openCache());
      const bodies = [randomBytes(100_000), randomBytes(100_000), randomBytes(100_000)];
      for (const body of bodies) {
        await first.put(blobKey(BASE, sha(body)), body);
        // Apart in time, so that the files' times keep the order of use.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await writeFile(join(cacheDir(), `${'0'.repeat(64)}.abcdef.part`), 'torn');
      const cache = openCache(250_000);
      const second = new CachedSink(inner, cache);
      for (const body of bodies) await takeAway(blobKey(BASE, sha(body)));
      await expect(second.get(blobKey(BASE, sha(bodies[0] as Buffer)))).rejects.toBeInstanceOf(
        SinkNotFoundError,
      );
      for (const body of bodies.slice(1))
        expect((await second.get(blobKey(BASE, sha(body)))).equals(body)).toBe(true);
      expect((await entries()).some((name) => name.endsWith('.part'))).toBe(false);
      expect(cache.stats()).toMatchObject({ entries: 2, hits: 2 });
    });

    it('a cache that cannot be opened only warns: every object comes from the sink', async () => {
      await writeFile(cacheDir(), 'a file where the folder would be');
      const cache = openCache();
      const sink = new CachedSink(inner, cache);
      const body = randomBytes(1000);
      const key = blobKey(BASE, sha(body));
      await sink.put(key, body);
      expect((await sink.get(key)).equals(body)).toBe(true);
      expect(cache.stats()).toMatchObject({ entries: 0, misses: 1, errors: 1 });
      expect(warnings).toEqual([
        expect.stringContaining('cannot be used; every object is read from the sink'),
      ]);
    });

    it('two sinks never share an entry', async () => {
      const cache = openCache();
      const other = new CachedSink(new LocalSink(join(dir, 'other')), cache);
      const sink = new CachedSink(inner, cache);
      const body = randomBytes(1000);
      const key = blobKey(BASE, sha(body));
      await sink.put(key, body);
      await expect(other.get(key)).rejects.toBeInstanceOf(SinkNotFoundError);
    });
  });
});
