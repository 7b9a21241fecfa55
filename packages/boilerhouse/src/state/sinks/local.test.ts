import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMP_MARK } from './keys.ts';
import { LocalSink } from './local.ts';
import { runSinkContract } from './sink.contract.ts';
import { SinkNotFoundError } from './sink.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'boilerhouse-local-sink-'));
}

/** Every file and folder under `dir`, as relative paths. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

describe('LocalSink', () => {
  runSinkContract(async () => {
    const dir = await tempDir();
    // A folder that does not exist yet: the first put makes it.
    return {
      sink: new LocalSink(join(dir, 'sink')),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });

  describe('on disk', () => {
    let dir: string;
    let sink: LocalSink;
    beforeEach(async () => {
      dir = await tempDir();
      sink = new LocalSink(dir);
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('is described by its absolute path', () => {
      expect(sink.description).toBe(`local:${dir}`);
    });

    it('stores each key as a file under its folder', async () => {
      await sink.put('a/b/c', Buffer.from('x'));
      expect(await tree(dir)).toEqual(['a', 'a/b', 'a/b/c']);
    });

    it('does not list temporary files a killed process left', async () => {
      await sink.put('a/file', Buffer.from('x'));
      await writeFile(join(dir, 'a', `${TEMP_MARK}0123456789abcdef`), 'partial');
      await writeFile(join(dir, `${TEMP_MARK}fedcba9876543210`), 'partial');
      expect(await sink.list('')).toEqual(['a/file']);
      expect(await sink.list('a/')).toEqual(['a/file']);
    });

    it('removes folders that a delete empties, and no others', async () => {
      await sink.put('a/b/c', Buffer.from('1'));
      await sink.put('a/d', Buffer.from('2'));
      await sink.delete(['a/b/c']);
      expect(await tree(dir)).toEqual(['a', 'a/d']);
      await sink.delete(['a/d']);
      expect(await tree(dir)).toEqual([]);
      await mkdir(join(dir, 'kept'));
      await sink.put('kept/x', Buffer.from('3'));
      await sink.delete(['kept/x']);
      expect(await tree(dir)).toEqual([]);
    });

    it('refuses a key that is a folder of other keys', async () => {
      await sink.put('a/b', Buffer.from('1'));
      await expect(sink.put('a', Buffer.from('2'))).rejects.toThrow(/put a in local:/);
      expect(await sink.list('')).toEqual(['a/b']);
      expect(await tree(dir)).toEqual(['a', 'a/b']); // the temporary file is gone too
    });

    it('lists nothing, and finds nothing, before its folder exists', async () => {
      const absent = new LocalSink(join(dir, 'absent'));
      expect(await absent.list('')).toEqual([]);
      await expect(absent.get('x')).rejects.toBeInstanceOf(SinkNotFoundError);
      await absent.delete(['x']);
    });
  });
});
