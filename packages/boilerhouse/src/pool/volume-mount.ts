/**
 * The directories every volume is mounted from, made mounts of their own with nosuid and nodev (and noexec
 * for the in-memory secrets): `<dataDir>/instances` and the daemon's memory directory. A bind mount copies
 * the flags of the mount it is made from, so every writable volume of every instance and child is then
 * nosuid,nodev too, and so is the host's own view of those files: a setuid-root file or a device node a
 * tenant managed to leave there is honoured nowhere. (A read-only bind loses them: the engine's read-only
 * remount replaces the flags. Children's binds are therefore pinned read-only with the flags; see pins.ts.)
 *
 * Each directory is bound onto itself (`mount --bind DIR DIR`), then remounted with the flags. Starting again
 * (after a stop, or after kill -9) looks at /proc/self/mountinfo first and never stacks a second mount. A
 * daemon's stop leaves the mounts: its instances, their children and the socket host's pins under them run
 * on. `releaseDataDir` takes them away (lazily) once nothing runs from them: test and bench teardown, after
 * the containers and the socket host are gone. Needs root, as the daemon already does.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { MemoryDirs } from '../secrets/index.ts';

const run = promisify(execFile);

export type MountFlag = 'nosuid' | 'nodev' | 'noexec';

/** One line of /proc/self/mountinfo, as far as this module reads it. */
export interface MountEntry {
  id: string;
  parent: string;
  device: string;
  /** The directory of the filesystem that is mounted (for a bind, the directory bound). */
  root: string;
  point: string;
  /** Per-mount options: rw, nosuid, nodev, ... */
  options: string[];
}

/** Makes `dir` (created if missing) a mount of its own with `flags`, unless its top mount has them already. */
export async function restrictMount(dir: string, flags: readonly MountFlag[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const point = await realpath(dir);
  let top = topMount(await readMounts(), point);
  if (top !== undefined && flags.every((flag) => top?.options.includes(flag))) return;
  if (top === undefined || !isSelfBind(top, await readMounts())) {
    // Mounts already below (pins of a daemon that ran without this mount) would be hidden under the bind
    // and still hold their directories; they are the daemon's own and containers keep their copies.
    const below = (await readMounts()).filter((entry) => entry.point.startsWith(`${point}/`));
    for (const entry of below.reverse()) await unmount(entry.point);
    await mount(['--bind', '--', point, point], point);
  }
  await mount(['-o', `remount,bind,${flags.join(',')}`, '--', point], point);
  top = topMount(await readMounts(), point);
  const missing = flags.filter((flag) => !top?.options.includes(flag));
  if (missing.length > 0) {
    throw new Error(`${point} was remounted ${flags.join(',')} but is still without ${missing.join(',')}`);
  }
}

/** Takes away the mounts restrictMount made on `dir` (binds of it onto itself); none is fine. */
export async function releaseMount(dir: string): Promise<void> {
  const point = await realpath(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (point === undefined) return;
  for (;;) {
    const mounts = await readMounts();
    const top = topMount(mounts, point);
    if (top === undefined || !isSelfBind(top, mounts)) return;
    await unmount(point);
  }
}

async function unmount(point: string): Promise<void> {
  await run('umount', ['--lazy', '--', point]).catch((error: Error & { stderr?: string }) => {
    throw new Error(`umount ${point} failed: ${error.stderr?.trim() || error.message}`);
  });
}

/**
 * The data directory made root's only (0700: no local user reaches a file in it), its instances directory
 * nosuid,nodev and the memory directory of its secrets nosuid,nodev,noexec.
 */
export async function restrictDataDir(dataDir: string, memory: MemoryDirs): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { mode } = await stat(dataDir);
  // Taking a shared directory such as /tmp for its own would lock every other user out of it.
  if ((mode & 0o1002) !== 0) {
    throw new Error(
      `the data directory ${dataDir} is writable by everyone (mode ${(mode & 0o7777).toString(8)}): give Boilerhouse a directory of its own`,
    );
  }
  await chmod(dataDir, 0o700);
  await restrictMount(join(dataDir, 'instances'), ['nosuid', 'nodev']);
  await restrictMount(await memory.createRoot(), ['nosuid', 'nodev', 'noexec']);
}

/** Takes away what restrictDataDir mounted (the directories stay, and stay 0700). */
export async function releaseDataDir(dataDir: string, memory: MemoryDirs): Promise<void> {
  await releaseMount(join(dataDir, 'instances'));
  await releaseMount(memory.root);
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [id, parent, device, root, point, options] = line.split(' ');
    if (id === undefined || parent === undefined || device === undefined || options === undefined) continue;
    if (root === undefined || point === undefined) continue;
    entries.push({
      id,
      parent,
      device,
      root: unescapeField(root),
      point: unescapeField(point),
      options: options.split(','),
    });
  }
  return entries;
}

/** The mount on top at `point`: the one no other mount at `point` is mounted on. */
export function topMount(mounts: readonly MountEntry[], point: string): MountEntry | undefined {
  const here = mounts.filter((entry) => entry.point === point);
  return here.find((entry) => !here.some((other) => other.parent === entry.id));
}

/** Whether `entry` shows the very directory its parent mount shows there: a bind of a directory onto itself. */
export function isSelfBind(entry: MountEntry, mounts: readonly MountEntry[]): boolean {
  const parent = mounts.find((candidate) => candidate.id === entry.parent);
  if (parent === undefined || parent.device !== entry.device) return false;
  return entry.root === join(parent.root, relative(parent.point, entry.point));
}

async function mount(args: string[], point: string): Promise<void> {
  try {
    await run('mount', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `mount ${args.join(' ')} failed: ${stderr || (error as Error).message} (Boilerhouse mounts ${point} nosuid,nodev, which needs root)`,
    );
  }
}

// mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040).
function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
