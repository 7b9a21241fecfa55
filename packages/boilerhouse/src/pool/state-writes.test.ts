/** The modification-time scan behind idle release and reserved writes, on real files. */
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startSwapper } from '../testing/swapper.ts';
import { lastWriteAt } from './state-writes.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'state-writes-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a link to an outside directory counts as itself, never as the newer files it points to', async () => {
  const state = join(root, 'state');
  const outside = join(root, 'outside');
  await mkdir(join(state, 'own'), { recursive: true });
  await mkdir(outside);
  const past = new Date('2020-01-01T00:00:00Z');
  const future = new Date('2040-01-01T00:00:00Z');
  await writeFile(join(state, 'own', 'file'), 'tenant');
  await utimes(join(state, 'own', 'file'), past, past);
  await utimes(join(state, 'own'), past, past);
  await writeFile(join(outside, 'newer'), 'host');
  await utimes(join(outside, 'newer'), future, future);
  await symlink(outside, join(state, 'link'));
  const newest = await lastWriteAt(state);
  expect(newest).toBeLessThan(future.getTime());
  expect(newest).toBeGreaterThan(past.getTime());
  expect(await lastWriteAt(state, (path) => path.startsWith('own'))).toBe(past.getTime());
});

test('no state volume: nothing written', async () => {
  expect(await lastWriteAt(join(root, 'missing'))).toBe(0);
});

test('raced by a swapper flipping a directory to a link to newer files: 300 scans never see them', async () => {
  const state = join(root, 'state');
  const outside = join(root, 'outside');
  await mkdir(join(state, 'dir'), { recursive: true });
  await mkdir(outside);
  const future = new Date('2040-01-01T00:00:00Z');
  for (let i = 0; i < 5; i++) {
    await writeFile(join(outside, `newer-${i}`), 'host');
    await utimes(join(outside, `newer-${i}`), future, future);
  }
  const swapper = await startSwapper({
    kind: 'dir',
    live: join(state, 'dir'),
    keep: join(state, 'keep'),
    target: outside,
    uid: 0,
    gid: 0,
  });
  const seen: number[] = [];
  try {
    for (let scan = 0; scan < 300; scan++) seen.push(await lastWriteAt(state).catch(() => 0));
  } finally {
    await swapper.stop();
  }
  expect(seen.filter((newest) => newest >= future.getTime())).toEqual([]);
});
