/** Removing a tenant's tree as root, on real files: never through a link, whatever the tenant swaps. */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startSwapper } from '../testing/swapper.ts';
import { removeBeneath } from './remove-beneath.ts';

let root: string;
let victims: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'remove-beneath-'));
  victims = join(root, 'victims');
  await mkdir(victims);
  for (let i = 0; i < 10; i++) await writeFile(join(victims, `v${i}`), `victim ${i}`);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function victimsSurvived(): Promise<void> {
  expect((await readdir(victims)).length).toBe(10);
  expect(await readFile(join(victims, 'v3'), 'utf8')).toBe('victim 3');
}

test('a link to an outside directory is removed as a link; what it points to survives', async () => {
  await mkdir(join(root, 'instances', 'i-1', 'volumes', 'state'), { recursive: true });
  await symlink(victims, join(root, 'instances', 'i-1', 'volumes', 'state', 'link'));
  await removeBeneath(join(root, 'instances'), 'i-1');
  expect(await readdir(join(root, 'instances'))).toEqual([]);
  await victimsSurvived();
});

test('a tree deeper than the descriptor bound, with names that are not UTF-8, is removed whole', async () => {
  let dir = join(root, 'instances', 'i-1');
  for (let depth = 0; depth < 300; depth++) dir = join(dir, 'd');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'deepest'), 'x');
  await writeFile(
    Buffer.concat([Buffer.from(`${join(root, 'instances', 'i-1')}/`), Buffer.from([0xff, 0xfe])]),
    'x',
  );
  await removeBeneath(join(root, 'instances'), 'i-1');
  expect(await readdir(join(root, 'instances'))).toEqual([]);
});

test('nothing there is fine', async () => {
  await mkdir(join(root, 'instances'));
  await removeBeneath(join(root, 'instances'), 'i-missing');
});

test('raced by a swapper flipping a directory to a link to the victims, 30 times: the victims survive', async () => {
  const instances = join(root, 'instances');
  for (let round = 0; round < 30; round++) {
    const sub = join(instances, `i-${round}`, 'volumes', 'state', 'sub');
    await mkdir(join(sub, 'deeper'), { recursive: true });
    for (let i = 0; i < 5; i++) await writeFile(join(sub, `f${i}`), 'tenant');
    const swapper = await startSwapper({
      kind: 'dir',
      live: sub,
      keep: join(root, `keep-${round}`),
      target: victims,
      uid: 0,
      gid: 0,
      lingerUs: 200,
    });
    try {
      // Raced, the removal may fail (a link where a directory was); what matters is the victims, below.
      await removeBeneath(instances, `i-${round}`).catch(() => undefined);
    } finally {
      await swapper.stop();
    }
    await victimsSurvived();
    await removeBeneath(instances, `i-${round}`);
  }
  expect(await readdir(instances)).toEqual([]);
});
