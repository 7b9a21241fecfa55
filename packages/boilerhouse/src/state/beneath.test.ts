/** Access beneath a root directory, on real files: links are never followed and descriptors stay bounded. */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { Beneath, type BeneathEntry, walkBeneath } from './beneath.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'beneath-'));
  await mkdir(join(root, 'volume', 'a'), { recursive: true });
  await mkdir(join(root, 'outside'));
  await writeFile(join(root, 'outside', 'f'), 'outside');
  await symlink(join(root, 'outside'), join(root, 'volume', 'a', 'link'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

test('a link anywhere on a path fails with the relative path named, never reaching its target', async () => {
  const volume = await Beneath.open(join(root, 'volume'));
  try {
    await expect(volume.openFile('a/link/f')).rejects.toMatchObject({
      code: 'ELOOP',
      message: 'a/link: is a symbolic link; not followed',
    });
    await expect(volume.openFile('a/link')).rejects.toMatchObject({ code: 'ELOOP', path: 'a/link' });
    await expect(volume.list('a/link')).rejects.toThrow('a/link: is a symbolic link; not followed');
    await expect(volume.createFile('a/link/new', 0o644)).rejects.toThrow('a/link: is a symbolic link');
    expect(await readdir(join(root, 'outside'))).toEqual(['f']);
  } finally {
    await volume.close();
  }
});

test('paths that are not plain relative names are refused, naming the path', async () => {
  const volume = await Beneath.open(join(root, 'volume'));
  try {
    for (const path of ['..', 'a/../../outside/f', 'a//b', '/etc/passwd', 'a/./b', 'a\0b']) {
      await expect(volume.openFile(path)).rejects.toMatchObject({ code: 'EINVAL', path });
    }
  } finally {
    await volume.close();
  }
});

test('only ENOENT is "not there": lstat answers undefined for it and throws for the rest', async () => {
  await writeFile(join(root, 'volume', 'file'), 'x');
  const volume = await Beneath.open(join(root, 'volume'));
  try {
    expect(await volume.lstat('a/missing')).toBeUndefined();
    await expect(volume.lstat('file/below')).rejects.toMatchObject({ code: 'ENOTDIR', path: 'file' });
  } finally {
    await volume.close();
  }
});

test('a walk visits links as links, never what they point to', async () => {
  const seen: Pick<BeneathEntry, 'path' | 'kind'>[] = [];
  await walkBeneath(join(root, 'volume'), ({ path, kind }) => {
    seen.push({ path, kind });
  });
  expect(seen).toEqual([
    { path: 'a', kind: 'directory' },
    { path: 'a/link', kind: 'symlink' },
  ]);
});

test('a walk of 10,000 files in 100 directories holds a bounded number of descriptors and leaks none', async () => {
  const big = join(root, 'big');
  for (let dir = 0; dir < 100; dir++) {
    await mkdir(join(big, `d${dir}`, 'nested'), { recursive: true });
    await Promise.all(
      Array.from({ length: 100 }, (_, file) => writeFile(join(big, `d${dir}`, 'nested', `f${file}`), '')),
    );
  }
  const before = await openFds();
  let most = 0;
  let files = 0;
  await walkBeneath(big, async ({ kind }) => {
    if (kind === 'file') files++;
    if (kind === 'file' && files % 500 === 0) most = Math.max(most, await openFds());
  });
  expect(files).toBe(10_000);
  expect(most - before).toBeLessThan(80);
  expect(await openFds()).toBe(before);
});
