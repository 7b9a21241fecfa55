/** The bounded idle pass over real directories: its answer, its bounds, and symlinks swapped in mid-pass. */
import { mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type ScanProgress, WriteScan } from './write-scan.ts';

let root: string;
let state: string;
let outside: string;
const FAR_FUTURE = new Date('2100-01-01T00:00:00Z');
const NOW = Date.parse('2030-01-01T00:00:00Z');

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'write-scan-'));
  state = join(root, 'state');
  outside = join(root, 'outside');
  await mkdir(state);
  await mkdir(outside);
  // What a link out of the volume would show: a write far in the future.
  await writeFile(join(outside, 'secret'), 'x');
  await utimes(join(outside, 'secret'), FAR_FUTURE, FAR_FUTURE);
  await utimes(outside, FAR_FUTURE, FAR_FUTURE);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function at(path: string, iso: string): Promise<void> {
  await utimes(path, new Date(iso), new Date(iso));
}

async function finish(scan: WriteScan, budget = 1_000): Promise<Extract<ScanProgress, { done: true }>> {
  for (;;) {
    const progress = await scan.step(budget);
    if (progress.done) return progress;
  }
}

test('finds the newest time of the counted entries, however deep', async () => {
  await mkdir(join(state, 'a/b/c'), { recursive: true });
  await writeFile(join(state, 'a/b/c/deep'), 'x');
  await writeFile(join(state, 'top'), 'x');
  await writeFile(join(state, 'ipc'), 'x');
  for (const dir of ['a/b/c', 'a/b', 'a', '']) await at(join(state, dir), '2020-01-01T00:00:00Z');
  await at(join(state, 'top'), '2021-01-01T00:00:00Z');
  await at(join(state, 'a/b/c/deep'), '2022-01-01T00:00:00Z');
  await at(join(state, 'ipc'), '2023-01-01T00:00:00Z');
  const progress = await finish(
    new WriteScan(
      state,
      (relative) => relative !== 'ipc',
      () => NOW,
    ),
  );
  expect(progress).toEqual({ done: true, newest: Date.parse('2022-01-01T00:00:00Z'), entries: 6 });
});

test('looks at no more entries per step than its budget, and holds no directory open when done', async () => {
  for (let d = 0; d < 10; d++) {
    await mkdir(join(state, `d${d}`));
    for (let f = 0; f < 100; f++) await writeFile(join(state, `d${d}`, `f${f}`), '');
  }
  const scan = new WriteScan(
    state,
    () => true,
    () => NOW,
  );
  const fds = async () => (await import('node:fs/promises')).readdir('/proc/self/fd');
  const before = (await fds()).length;
  let steps = 0;
  let last: ScanProgress;
  do {
    last = await scan.step(50);
    steps++;
  } while (!last.done);
  expect(last.entries).toBe(1_010);
  // 1,010 entries at 50 a step: no step did more than its share.
  expect(steps).toBeGreaterThanOrEqual(Math.ceil(1_010 / 50));
  expect((await fds()).length).toBeLessThanOrEqual(before);
});

test('never follows a symlink out of the volume', async () => {
  await symlink(outside, join(state, 'link'));
  await symlink(join(outside, 'secret'), join(state, 'file-link'));
  await at(join(state), '2020-01-01T00:00:00Z');
  const progress = await finish(
    new WriteScan(
      state,
      () => true,
      () => NOW,
    ),
  );
  expect(progress.newest).toBeLessThan(FAR_FUTURE.getTime());
});

test('a directory swapped for a symlink mid-pass is not listed, and counts as a write now', async () => {
  await mkdir(join(state, 'a'));
  await at(join(state, 'a'), '2020-01-01T00:00:00Z');
  const scan = new WriteScan(
    state,
    () => true,
    () => NOW,
  );
  // One entry: the root is opened and `a` is seen as a directory, to be listed next.
  expect(await scan.step(1)).toEqual({ done: false });
  await rm(join(state, 'a'), { recursive: true });
  await symlink(outside, join(state, 'a'));
  expect((await finish(scan)).newest).toBe(NOW);
});

test('a directory replaced by another mid-pass is listed as what it now is, inside the volume', async () => {
  await mkdir(join(state, 'a'));
  await mkdir(join(state, 'other'));
  await writeFile(join(state, 'other/newer'), 'x');
  await at(join(state, 'other/newer'), '2025-01-01T00:00:00Z');
  const scan = new WriteScan(
    state,
    (relative) => relative !== 'other' && relative !== 'a',
    () => NOW,
  );
  // Two entries: the root's `a` and `other`, both directories waiting to be listed.
  expect(await scan.step(2)).toEqual({ done: false });
  await rm(join(state, 'other'), { recursive: true });
  await rename(join(state, 'a'), join(root, 'moved'));
  await mkdir(join(state, 'a'));
  await writeFile(join(state, 'a/newer'), 'x');
  await at(join(state, 'a/newer'), '2025-01-01T00:00:00Z');
  // `other` is gone (not counted, so no write); the new `a` is listed.
  expect((await finish(scan)).newest).toBe(Date.parse('2025-01-01T00:00:00Z'));
});

test('a volume that is not there has no writes', async () => {
  expect(
    await finish(
      new WriteScan(
        join(root, 'none'),
        () => true,
        () => NOW,
      ),
    ),
  ).toEqual({
    done: true,
    newest: 0,
    entries: 0,
  });
});

test('a pass over more entries than its limit stops, incomplete', async () => {
  for (let f = 0; f < 30; f++) await writeFile(join(state, `f${f}`), '');
  const limits = { entries: 20, pendingDirs: 10, depth: 8 };
  const progress = await finish(
    new WriteScan(
      state,
      () => true,
      () => NOW,
      limits,
    ),
  );
  expect(progress.incomplete).toBe('over 20 entries');
});
