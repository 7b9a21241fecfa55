/**
 * What every sink must do, as one suite each sink's test file runs against a real instance of it (the
 * local sink on a temporary directory, the S3 sink on s3rver).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMP_MARK } from './keys.ts';
import { type Sink, SinkError, SinkNotFoundError } from './sink.ts';

export interface SinkFixture {
  sink: Sink;
  cleanup(): Promise<void>;
}

const BAD_KEYS = ['', '/abs', '..', 'a/../b', 'a/./b', 'a//b', 'a/', 'a\\b', 'nul\0', `a/${TEMP_MARK}1`];

export function runSinkContract(make: () => Promise<SinkFixture>): void {
  describe('sink contract', () => {
    let fixture: SinkFixture;
    let sink: Sink;
    beforeEach(async () => {
      fixture = await make();
      sink = fixture.sink;
    });
    afterEach(() => fixture.cleanup());

    it('round-trips binary data through get and getStream', async () => {
      const body = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(70_000),
      ]);
      await sink.put('objects/binary', body);
      expect((await sink.get('objects/binary')).equals(body)).toBe(true);
      expect((await readAll(await sink.getStream('objects/binary'))).equals(body)).toBe(true);
    });

    it('stores an empty object', async () => {
      await sink.put('empty', Buffer.alloc(0));
      expect(await sink.exists('empty')).toBe(true);
      expect((await sink.get('empty')).length).toBe(0);
      expect((await readAll(await sink.getStream('empty'))).length).toBe(0);
      expect(await sink.list('')).toEqual(['empty']);
    });

    it('stores a 20 MB stream whole', async () => {
      const source = randomStream(20 * 1024 * 1024);
      await sink.put('big/object', source.stream);
      const digest = source.digest();
      expect(sha256(await readAll(await sink.getStream('big/object')))).toBe(digest);
      expect(sha256(await sink.get('big/object'))).toBe(digest);
    });

    it('stores a 9 MB buffer whole', async () => {
      const body = randomBytes(9 * 1024 * 1024);
      await sink.put('big/buffer', body, { length: body.length });
      expect((await sink.get('big/buffer')).equals(body)).toBe(true);
    });

    it('takes a stream with its announced length', async () => {
      await sink.put('announced', Readable.from([Buffer.from('abc'), Buffer.from('de')]), { length: 5 });
      expect((await sink.get('announced')).toString()).toBe('abcde');
    });

    it('overwrites an object', async () => {
      await sink.put('key', Buffer.from('first'));
      await sink.put('key', Readable.from([Buffer.from('sec'), Buffer.from('ond')]));
      expect((await sink.get('key')).toString()).toBe('second');
    });

    it('says whether an object exists', async () => {
      expect(await sink.exists('a/b')).toBe(false);
      await sink.put('a/b', Buffer.from('x'));
      expect(await sink.exists('a/b')).toBe(true);
      expect(await sink.exists('a')).toBe(false);
      await sink.delete(['a/b']);
      expect(await sink.exists('a/b')).toBe(false);
    });

    it('lists the keys under a prefix, sorted', async () => {
      const keys = ['b/2', 'a/10', 'a/1', 'ab', 'a/2', 'c/d/e', 'a-z'];
      await Promise.all(keys.map((key) => sink.put(key, Buffer.from(key))));
      expect(await sink.list('')).toEqual(['a-z', 'a/1', 'a/10', 'a/2', 'ab', 'b/2', 'c/d/e']);
      expect(await sink.list('a/')).toEqual(['a/1', 'a/10', 'a/2']);
      expect(await sink.list('a')).toEqual(['a-z', 'a/1', 'a/10', 'a/2', 'ab']);
      expect(await sink.list('a/1')).toEqual(['a/1', 'a/10']);
      expect(await sink.list('c/d/')).toEqual(['c/d/e']);
      expect(await sink.list('c/d/e')).toEqual(['c/d/e']);
      expect(await sink.list('zz')).toEqual([]);
      expect(await sink.list('c/x/')).toEqual([]);
    });

    it('deletes objects, and missing keys are no error', async () => {
      await sink.put('d/1', Buffer.from('1'));
      await sink.put('d/2', Buffer.from('2'));
      await sink.put('d/sub/3', Buffer.from('3'));
      await sink.delete(['d/1', 'd/missing', 'd/sub/3', 'never/was']);
      expect(await sink.list('')).toEqual(['d/2']);
      await sink.delete(['d/1', 'd/sub/3']);
      await sink.delete([]);
      expect(await sink.list('')).toEqual(['d/2']);
      await expect(sink.get('d/1')).rejects.toBeInstanceOf(SinkNotFoundError);
    });

    it('rejects get and getStream of a missing key with SinkNotFoundError', async () => {
      await sink.put('present/x', Buffer.from('x'));
      for (const key of ['missing', 'present', 'present/x/y']) {
        await expect(sink.get(key)).rejects.toMatchObject({ name: 'SinkNotFoundError', key });
        await expect(sink.getStream(key)).rejects.toMatchObject({ name: 'SinkNotFoundError', key });
      }
    });

    it('refuses invalid keys with a SinkError naming the key', async () => {
      for (const key of BAD_KEYS) {
        const named = expect.objectContaining({ message: expect.stringContaining(JSON.stringify(key)) });
        await expect(sink.put(key, Buffer.from('x'))).rejects.toThrow(SinkError);
        await expect(sink.put(key, Buffer.from('x'))).rejects.toEqual(named);
        await expect(sink.get(key)).rejects.toEqual(named);
        await expect(sink.getStream(key)).rejects.toEqual(named);
        await expect(sink.exists(key)).rejects.toEqual(named);
        await expect(sink.delete(['fine', key])).rejects.toEqual(named);
      }
      await expect(sink.list('/abs')).rejects.toThrow(SinkError);
      await expect(sink.list('a/../')).rejects.toThrow(SinkError);
      expect(await sink.list('')).toEqual([]);
    });

    it('keeps the previous object when the writer dies half way', async () => {
      await sink.put('state/file', Buffer.from('previous'));
      // 9 MiB first: past one upload part, so an S3 sink has begun a multipart upload it must abort.
      const dying = Readable.from(
        (async function* () {
          for (let i = 0; i < 9; i++) yield randomBytes(1024 * 1024);
          throw new Error('writer killed');
        })(),
      );
      await expect(sink.put('state/file', dying)).rejects.toThrow(/writer killed/);
      expect((await sink.get('state/file')).toString()).toBe('previous');
      expect(await sink.list('')).toEqual(['state/file']);
    });

    it('refuses a body whose length is not the one announced', async () => {
      await sink.put('sized', Buffer.from('previous'));
      await expect(sink.put('sized', Buffer.from('abc'), { length: 4 })).rejects.toThrow(SinkError);
      const short = Readable.from([Buffer.from('abc')]);
      await expect(sink.put('sized', short, { length: 4 })).rejects.toThrow(SinkError);
      const long = Readable.from([Buffer.from('abcde')]);
      await expect(sink.put('sized', long, { length: 4 })).rejects.toThrow(SinkError);
      expect((await sink.get('sized')).toString()).toBe('previous');
      expect(await sink.list('')).toEqual(['sized']);
    });
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `size` random bytes in 64 KiB chunks; `digest()` is their SHA-256 once the stream has been read. */
function randomStream(size: number): { stream: Readable; digest(): string } {
  const hash = createHash('sha256');
  const stream = Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= 65_536) {
        const chunk = randomBytes(Math.min(left, 65_536));
        hash.update(chunk);
        yield chunk;
      }
    })(),
  );
  return { stream, digest: () => hash.digest('hex') };
}
