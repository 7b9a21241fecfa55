/**
 * The seed copy on real files: what is inside the workloads directory is copied; links are never followed
 * out of it; the daemon's own directories are never copied, even when they sit inside it.
 */
import { execFile } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { copySeed, SeedError } from './seed-copy.ts';

const HOST_SECRET = 'host secret: never in a volume';
let root: string;
let workloadsDir: string;
let dataDir: string;
let outside: string;
let volume: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bh-seed-'));
  workloadsDir = join(root, 'workloads');
  dataDir = join(root, 'data');
  outside = join(root, 'outside');
  volume = join(root, 'volume');
  for (const dir of [workloadsDir, dataDir, outside, volume]) await mkdir(dir);
  await writeFile(join(dataDir, 'secret.key'), HOST_SECRET);
  await writeFile(join(outside, 'host.txt'), HOST_SECRET);
});

afterEach(() => rm(root, { recursive: true, force: true }));

const copy = (seed: string, options: { fileTarget?: boolean; destination?: string; data?: string } = {}) =>
  copySeed({
    workloadsDir,
    seed,
    destination: options.destination ?? volume,
    fileTarget: options.fileTarget ?? false,
    private: [{ path: options.data ?? dataDir, what: "the daemon's data directory" }],
  });

/** Every file under `dir` (not following links) with its content; links as `-> target`. */
async function tree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isSymbolicLink()) out[`${prefix}${name}`] = `-> ${await readlink(path)}`;
    else if (info.isFile()) out[`${prefix}${name}`] = await readFile(path, 'utf8');
    else if (info.isDirectory()) Object.assign(out, await tree(path, `${prefix}${name}/`));
  }
  return out;
}

describe('an ordinary seed', () => {
  test('a directory is copied whole: folders, files, modes without set-id bits, links as links', async () => {
    const seed = join(workloadsDir, 'seeds', 'cache');
    await mkdir(join(seed, 'deep', 'er'), { recursive: true });
    await writeFile(join(seed, 'a.txt'), 'a');
    await writeFile(join(seed, 'deep', 'er', 'b.sh'), '#!/bin/sh\n');
    await chmod(join(seed, 'deep', 'er', 'b.sh'), 0o4755);
    await symlink('a.txt', join(seed, 'current'));
    await copy('seeds/cache');
    expect(await tree(volume)).toEqual({
      'a.txt': 'a',
      current: '-> a.txt',
      'deep/er/b.sh': '#!/bin/sh\n',
    });
    expect((await stat(join(volume, 'deep', 'er', 'b.sh'))).mode & 0o7777).toBe(0o755);
  });

  test('a file is copied over a file volume', async () => {
    await writeFile(join(workloadsDir, 'app.conf'), 'port=1\n');
    const target = join(root, 'app.conf');
    await writeFile(target, '');
    await copy('app.conf', { fileTarget: true, destination: target });
    expect(await readFile(target, 'utf8')).toBe('port=1\n');
  });
});

describe('nothing outside the workloads directory is copied', () => {
  test.each([['/etc/hostname'], ['../data/secret.key'], ['seeds/../../outside/host.txt']])(
    '%j is refused before anything is opened',
    async (seed) => {
      await expect(copy(seed)).rejects.toThrow(
        new SeedError(`seed "${seed}" must be a path inside the workloads directory`),
      );
      expect(await readdir(volume)).toEqual([]);
    },
  );

  test('a seed that is a link (to /etc) is refused, not followed', async () => {
    await symlink('/etc', join(workloadsDir, 'etc'));
    await expect(copy('etc')).rejects.toThrow(
      new SeedError('seed "etc": etc is a symbolic link; a seed is never read through a link'),
    );
    expect(await readdir(volume)).toEqual([]);
  });

  test('a seed whose path passes through a link is refused', async () => {
    await symlink(outside, join(workloadsDir, 'elsewhere'));
    await expect(copy('elsewhere/host.txt')).rejects.toThrow(
      'seed "elsewhere/host.txt": elsewhere is a symbolic link; a seed is never read through a link',
    );
  });

  test('a link inside a directory seed is copied as a link: the host file it names is never read', async () => {
    const seed = join(workloadsDir, 'tools');
    await mkdir(join(seed, 'sub'), { recursive: true });
    await symlink(join(outside, 'host.txt'), join(seed, 'host'));
    await symlink(outside, join(seed, 'sub', 'dir'));
    await copy('tools');
    expect(await tree(volume)).toEqual({
      host: `-> ${join(outside, 'host.txt')}`,
      'sub/dir': `-> ${outside}`,
    });
  });

  test('a FIFO in a seed is refused without hanging the copy', async () => {
    const seed = join(workloadsDir, 'pipes');
    await mkdir(seed);
    await promisify(execFile)('mkfifo', [join(seed, 'fifo')]);
    await expect(copy('pipes')).rejects.toThrow(
      'seed "pipes": pipes/fifo is not a regular file, directory or link; not copied',
    );
  });

  test('a directory seed into a file volume, or a file into a directory one, is refused', async () => {
    await mkdir(join(workloadsDir, 'dir'));
    await writeFile(join(workloadsDir, 'file'), 'x');
    await expect(copy('dir', { fileTarget: true })).rejects.toThrow(
      'is a directory, but the volume is a file',
    );
    await expect(copy('file')).rejects.toThrow('is a file, but the volume is a directory');
  });
});

describe("the daemon's data directory inside the workloads directory", () => {
  let inner: string;
  beforeEach(async () => {
    inner = join(workloadsDir, 'state', 'boilerhouse');
    await mkdir(inner, { recursive: true });
    await writeFile(join(inner, 'secret.key'), HOST_SECRET);
    await writeFile(join(workloadsDir, 'state', 'readme'), 'hi');
  });

  test.each([
    ['state/boilerhouse', 'state/boilerhouse'],
    ['state/boilerhouse/secret.key', 'state/boilerhouse'],
    ['state', 'state/boilerhouse'],
  ])('seed %j is refused: it reaches %s', async (seed, at) => {
    await expect(copy(seed, { data: inner })).rejects.toThrow(
      new SeedError(
        `seed "${seed}": ${at} is the daemon's data directory, which is never copied into an instance`,
      ),
    );
    expect(JSON.stringify(await tree(volume))).not.toContain(HOST_SECRET);
  });

  test('found by inode, so a link or mount of it elsewhere is no way round', async () => {
    await expect(copy('state/boilerhouse', { data: join(root, 'via-link') })).resolves.toBeUndefined();
    await rm(volume, { recursive: true });
    await mkdir(volume);
    await symlink(inner, join(root, 'via-link'));
    await expect(copy('state/boilerhouse', { data: join(root, 'via-link') })).rejects.toThrow(
      "is the daemon's data directory",
    );
  });
});
