import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { MEMORY_BASE, MemoryDirs, mountOf } from './memory-dir.ts';

const cleanups: string[] = [];

afterEach(async () => {
  for (const path of cleanups.splice(0)) await rm(path, { recursive: true, force: true });
});

/** A fresh data directory, so a MemoryDirs of its own under /dev/shm/boilerhouse. */
async function dirs(options: ConstructorParameters<typeof MemoryDirs>[1] = {}): Promise<MemoryDirs> {
  const dataDir = await mkdtemp(join(tmpdir(), 'boilerhouse-memdir-'));
  const memory = new MemoryDirs(dataDir, options);
  cleanups.push(dataDir, memory.root);
  return memory;
}

test('an instance directory is on tmpfs, private at every level, and gone after remove', async () => {
  const memory = await dirs();
  const dir = await memory.create('echo-0123456789');
  expect(dir).toBe(join(memory.root, 'echo-0123456789'));
  expect(dir.startsWith(`${MEMORY_BASE}/`)).toBe(true);
  expect(mountOf(await realpath(dir), await readFile('/proc/mounts', 'utf8'))?.type).toBe('tmpfs');
  for (const level of [MEMORY_BASE, memory.root, dir]) expect((await stat(level)).mode & 0o777).toBe(0o700);

  await writeFile(join(dir, 'secrets'), 'A="1"\n');
  expect(await memory.create('echo-0123456789')).toBe(dir); // again: kept, with what it holds
  expect(await memory.list()).toEqual(['echo-0123456789']);
  await memory.remove('echo-0123456789');
  await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  expect(await memory.list()).toEqual([]);
  await memory.remove('echo-0123456789'); // nothing there is fine
});

test('daemons with different data directories get different roots', async () => {
  const [a, b] = [await dirs(), await dirs()];
  expect(a.root).not.toBe(b.root);
  // One data directory, however it is written, is one root.
  const dataDir = await mkdtemp(join(tmpdir(), 'boilerhouse-memdir-'));
  cleanups.push(dataDir);
  expect(new MemoryDirs(`${dataDir}/.`).root).toBe(new MemoryDirs(dataDir).root);
});

test('a loose directory of its own is tightened; a link is refused', async () => {
  const base = join('/dev/shm', `boilerhouse-test-${randomBytes(4).toString('hex')}`);
  cleanups.push(base);
  await mkdir(base, { mode: 0o755 });
  await chmod(base, 0o755);
  const memory = await dirs({ base });
  await memory.create('i1');
  expect((await stat(base)).mode & 0o777).toBe(0o700);

  const elsewhere = await mkdtemp(join('/dev/shm', 'boilerhouse-elsewhere-'));
  const linked = `${base}-link`;
  cleanups.push(elsewhere, linked);
  await symlink(elsewhere, linked);
  await expect((await dirs({ base: linked })).create('i1')).rejects.toThrow(
    `${linked} is not a directory owned by the daemon`,
  );
});

test.skipIf(process.getuid?.() !== 0)('a directory another user made first is refused', async () => {
  const base = join('/dev/shm', `boilerhouse-test-${randomBytes(4).toString('hex')}`);
  cleanups.push(base);
  await mkdir(base, { mode: 0o700 });
  await chown(base, 1000, 1000);
  await expect((await dirs({ base })).create('i1')).rejects.toThrow(
    `${base} is not a directory owned by the daemon (uid 0)`,
  );
});

test('without a memory filesystem, nothing is created and the error says what is needed', async () => {
  const mounts = join(await mkdtemp(join(tmpdir(), 'boilerhouse-mounts-')), 'mounts');
  cleanups.push(join(mounts, '..'));
  await writeFile(mounts, '/dev/sda1 / ext4 rw,relatime 0 0\n');
  const base = join('/dev/shm', `boilerhouse-test-${randomBytes(4).toString('hex')}`);
  cleanups.push(base);
  const memory = await dirs({ base, mountsFile: mounts });
  await expect(memory.create('i1')).rejects.toThrow(
    'secrets must be kept in memory, but /dev/shm is on ext4 (/); Boilerhouse needs a tmpfs at /dev/shm',
  );
  await expect(stat(base)).rejects.toThrow(/ENOENT/);

  const missing = await dirs({ base: join('/nonexistent-shm', 'boilerhouse') });
  await expect(missing.create('i1')).rejects.toThrow(/but \/nonexistent-shm does not exist/);
});

test('instance ids never become other paths', async () => {
  const memory = await dirs();
  for (const id of ['..', '.', '../x', 'a/b', ''])
    expect(() => memory.dir(id)).toThrow(/is not an instance id/);
});

test('mountOf picks the deepest mount point, the latest mount at it, and reads escaped paths', () => {
  const mounts = [
    '/dev/sda1 / ext4 rw 0 0',
    'tmpfs /dev/shm tmpfs rw 0 0',
    'shm /dev/shm ramfs rw 0 0',
    'tmpfs /data/my\\040dir tmpfs rw 0 0',
    'tmpfs /dev/shmoo tmpfs rw 0 0',
  ].join('\n');
  expect(mountOf('/dev/shm/boilerhouse/x', mounts)).toEqual({ point: '/dev/shm', type: 'ramfs' });
  expect(mountOf('/data/my dir/x', mounts)).toEqual({ point: '/data/my dir', type: 'tmpfs' });
  expect(mountOf('/dev/sh', mounts)).toEqual({ point: '/', type: 'ext4' });
  expect(mountOf('/dev/shmo', mounts)).toEqual({ point: '/', type: 'ext4' });
});
