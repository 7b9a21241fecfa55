/**
 * The disk of the host's cache of S3 objects fills up (a small tmpfs as the cache's folder): the cache
 * stops taking objects before it takes the last tenth of the disk, which tenants' volumes may share, and
 * counts each one it skips; every put and read of the sink behind it goes on as before.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { blobKey } from '../../packages/boilerhouse/src/state/keys.ts';
import { CachedSink } from '../../packages/boilerhouse/src/state/sinks/cached-sink.ts';
import { LocalSink } from '../../packages/boilerhouse/src/state/sinks/local.ts';
import { ObjectCache } from '../../packages/boilerhouse/src/state/sinks/object-cache.ts';
import { mountTmpfs, type Tmpfs } from './testing/tmpfs.ts';

const MIB = 1024 * 1024;
let disk: Tmpfs | undefined;
let scratch: string | undefined;

afterEach(async () => {
  await disk?.unmount();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  disk = scratch = undefined;
});

test("the cache's disk nearly full: objects are skipped, counted, and still saved and read through the sink", async () => {
  scratch = await mkdtemp(join(tmpdir(), 'boilerhouse-cache-disk-'));
  disk = await mountTmpfs(join(scratch, 'cache'), 8 * MIB);
  const warnings: string[] = [];
  const cache = new ObjectCache({
    dir: disk.dir,
    maxBytes: 64 * MIB,
    warn: (message) => warnings.push(message),
  });
  const sink = new CachedSink(new LocalSink(join(scratch, 'sink')), cache);
  const bodies = Array.from({ length: 10 }, () => randomBytes(MIB));
  const keyOf = (body: Buffer) => blobKey('alice/echo/', createHash('sha256').update(body).digest('hex'));
  for (const body of bodies) await sink.put(keyOf(body), body);

  const stats = cache.stats();
  expect(stats.entries).toBeGreaterThan(0);
  expect(stats.skipped).toBe(bodies.length - stats.entries);
  expect(stats.skipped).toBeGreaterThan(0);
  const room = await statfs(disk.dir);
  expect(room.bavail / room.blocks).toBeGreaterThanOrEqual(0.1);
  for (const body of bodies) expect((await sink.get(keyOf(body))).equals(body)).toBe(true);
  // The ones read from the sink are offered to the cache again, and skipped again.
  const afterReads = cache.stats();
  expect(afterReads).toMatchObject({
    hits: stats.entries,
    skipped: stats.skipped * 2,
    entries: stats.entries,
  });

  // Filled to the last byte by something else: still nothing fails, and nothing is written.
  await disk.fill();
  const more = randomBytes(MIB);
  await sink.put(keyOf(more), more);
  expect((await sink.get(keyOf(more))).equals(more)).toBe(true);
  expect(cache.stats().skipped).toBe(afterReads.skipped + 2);
  expect(warnings).toEqual([]);
  await disk.free();
});
