/** The nosuid,nodev mounts under every volume: made once however often the daemon starts, gone after it. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { MemoryDirs } from '../secrets/index.ts';
import {
  parseMountInfo,
  readMounts,
  releaseDataDir,
  releaseMount,
  restrictDataDir,
  restrictMount,
  topMount,
} from './volume-mount.ts';

const run = promisify(execFile);
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bh-volume-mount-'));
});

afterEach(async () => {
  // Whatever a failed test left mounted under root goes before root does.
  for (let left = await mountsUnder(root); left.length > 0; left = await mountsUnder(root))
    await run('umount', ['--lazy', '--', left.at(-1) as string]);
  await rm(root, { recursive: true, force: true });
});

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readMounts()).map((entry) => entry.point).filter((point) => point.startsWith(dir));
}

test('a directory becomes a nosuid,nodev mount of its own, once however often it is asked', async () => {
  const dir = join(root, 'instances');
  await restrictMount(dir, ['nosuid', 'nodev']);
  // A daemon killed with -9 leaves its mount; the next start finds it and adds none.
  await restrictMount(dir, ['nosuid', 'nodev']);
  expect(await mountsUnder(root)).toEqual([dir]);
  expect(topMount(await readMounts(), dir)?.options).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
  await releaseMount(dir);
  await releaseMount(dir);
  expect(await mountsUnder(root)).toEqual([]);
});

test('a bind left without its flags (a crash between the two mounts) is remounted, not stacked', async () => {
  const dir = join(root, 'instances');
  await mkdir(dir);
  await run('mount', ['--bind', dir, dir]);
  await restrictMount(dir, ['nosuid', 'nodev']);
  expect(await mountsUnder(root)).toEqual([dir]);
  expect(topMount(await readMounts(), dir)?.options).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
});

test("someone else's mount there without the flags gets one on top, and only that one is taken away", async () => {
  const dir = join(root, 'instances');
  const elsewhere = join(root, 'disk');
  await mkdir(dir);
  await mkdir(elsewhere);
  await run('mount', ['--bind', elsewhere, dir]);
  await restrictMount(dir, ['nosuid', 'nodev']);
  expect(await mountsUnder(root)).toEqual([dir, dir]);
  await releaseMount(dir);
  const left = topMount(await readMounts(), dir);
  expect(left?.root.endsWith('/disk')).toBe(true);
  expect(left?.options).not.toContain('nosuid');
});

test('mounts already below it (pins of a daemon that ran without it) go first, not hidden under the bind', async () => {
  const dir = join(root, 'instances');
  const pin = join(dir, 'i-1', 'docker-pins', 'k', '0');
  const source = join(root, 'source');
  await mkdir(pin, { recursive: true });
  await mkdir(source);
  await run('mount', ['--bind', source, pin]);
  await restrictMount(dir, ['nosuid', 'nodev']);
  expect(await mountsUnder(root)).toEqual([dir]);
  // The pin's directory can go, as the proxy removes it once its container is gone.
  await rm(join(dir, 'i-1'), { recursive: true });
});

test('the data directory: 0700, instances nosuid,nodev, the secrets memory nosuid,nodev,noexec', async () => {
  const dataDir = join(root, 'data');
  const memory = new MemoryDirs(dataDir);
  try {
    await restrictDataDir(dataDir, memory);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const mounts = await readMounts();
    expect(topMount(mounts, join(dataDir, 'instances'))?.options).toEqual(
      expect.arrayContaining(['nosuid', 'nodev']),
    );
    expect(topMount(mounts, memory.root)?.options).toEqual(
      expect.arrayContaining(['nosuid', 'nodev', 'noexec']),
    );
    await releaseDataDir(dataDir, memory);
    const after = await readMounts();
    expect(topMount(after, join(dataDir, 'instances'))).toBeUndefined();
    expect(topMount(after, memory.root)).toBeUndefined();
  } finally {
    await releaseDataDir(dataDir, memory);
    await rm(memory.root, { recursive: true, force: true });
  }
});

test('a data directory everyone may write to (such as /tmp) is refused, not taken over', async () => {
  const shared = join(root, 'shared');
  await mkdir(shared);
  await run('chmod', ['1777', shared]);
  await expect(restrictDataDir(shared, new MemoryDirs(shared))).rejects.toThrow(
    `the data directory ${shared} is writable by everyone (mode 1777): give Boilerhouse a directory of its own`,
  );
  expect((await stat(shared)).mode & 0o7777).toBe(0o1777);
});

test('mountinfo paths are unescaped', () => {
  const [entry] = parseMountInfo(
    '137 27 254:0 /srv/a\\040b /srv/a\\040b rw,nosuid,nodev,relatime - ext4 /dev/vda rw\n',
  );
  expect(entry).toEqual({
    id: '137',
    parent: '27',
    device: '254:0',
    root: '/srv/a b',
    point: '/srv/a b',
    options: ['rw', 'nosuid', 'nodev', 'relatime'],
  });
});
