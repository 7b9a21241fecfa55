/**
 * What every sink must do, as one suite each sink's test file runs against a real instance of it (the
 * local sink on a temporary directory, the S3 sink on s3rver).
 */
import { randomBytes } from 'node:crypto';
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

    it('round-trips binary data', async () => {
      const body = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(70_000),
      ]);
      await sink.put('objects/binary', body);
      expect((await sink.get('objects/binary')).equals(body)).toBe(true);
    });

    it('stores an empty object', async () => {
      await sink.put('empty', Buffer.alloc(0));
      expect((await sink.get('empty')).length).toBe(0);
      expect(await sink.list('')).toEqual(['empty']);
    });

    it('stores a 9 MB object whole', async () => {
      const body = randomBytes(9 * 1024 * 1024);
      await sink.put('big/buffer', body);
      expect((await sink.get('big/buffer')).equals(body)).toBe(true);
    });

    it('streams an object: the same bytes as get, in pieces', async () => {
      const body = randomBytes(3 * 1024 * 1024 + 5);
      await sink.put('big/streamed', body);
      const pieces: Buffer[] = [];
      for await (const piece of sink.stream('big/streamed')) pieces.push(piece);
      expect(Buffer.concat(pieces).equals(body)).toBe(true);
      await sink.put('empty', Buffer.alloc(0));
      for await (const piece of sink.stream('empty')) expect(piece.length).toBe(0);
    });

    it('lets go of a stream stopped early, and the object reads again', async () => {
      const body = randomBytes(4 * 1024 * 1024);
      await sink.put('big/stopped', body);
      for await (const piece of sink.stream('big/stopped')) {
        expect(piece.length).toBeGreaterThan(0);
        break;
      }
      expect((await sink.get('big/stopped')).equals(body)).toBe(true);
    });

    it('overwrites an object', async () => {
      await sink.put('key', Buffer.from('first'));
      await sink.put('key', Buffer.from('second'));
      expect((await sink.get('key')).toString()).toBe('second');
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

    it('rejects get and stream of a missing key with SinkNotFoundError', async () => {
      await sink.put('present/x', Buffer.from('x'));
      for (const key of ['missing', 'present', 'present/x/y']) {
        await expect(sink.get(key)).rejects.toMatchObject({ name: 'SinkNotFoundError', key });
        await expect(sink.stream(key)[Symbol.asyncIterator]().next()).rejects.toMatchObject({
          name: 'SinkNotFoundError',
          key,
        });
      }
    });

    it('refuses invalid keys with a SinkError naming the key', async () => {
      for (const key of BAD_KEYS) {
        const named = expect.objectContaining({ message: expect.stringContaining(JSON.stringify(key)) });
        await expect(sink.put(key, Buffer.from('x'))).rejects.toThrow(SinkError);
        await expect(sink.put(key, Buffer.from('x'))).rejects.toEqual(named);
        await expect(sink.get(key)).rejects.toEqual(named);
        await expect(sink.stream(key)[Symbol.asyncIterator]().next()).rejects.toEqual(named);
        await expect(sink.delete(['fine', key])).rejects.toEqual(named);
      }
      await expect(sink.list('/abs')).rejects.toThrow(SinkError);
      await expect(sink.list('a/../')).rejects.toThrow(SinkError);
      expect(await sink.list('')).toEqual([]);
    });
  });
}
