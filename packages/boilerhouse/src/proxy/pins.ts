/**
 * Pinned bind sources. A sub-directory of a volume is the tenant's to change: between a check of its path
 * and the engine mounting it, a directory could become a symlink to `/`. So the proxy never hands the
 * engine a path the tenant controls. It opens the source (O_PATH, the last component not followed), reads
 * where that very inode is (/proc/self/fd) and checks it is inside the volume, then bind-mounts the open
 * file itself (through its /proc/self/fd magic link, with --no-canonicalize so that mount(8) does not turn
 * it back into a path) onto a directory of its own, and gives the engine that. Volume roots are pinned too,
 * because every pin is remounted nosuid,nodev (and read-only when asked): a child's bind copies the pin's
 * flags, so nothing in it is ever setuid or a device, whatever the child writes. The engine must then be
 * asked for a writable bind even when read-only is meant: its own read-only remount would drop the flags.
 *
 * Pins live under `<instance dir>/docker-pins/<key>/<n>`, one key per created container (its label), and
 * are unmounted when the container is gone. Needs root (mount), as the daemon already is for Docker.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProxyDenial, quote } from './denial.ts';

/** Linux's O_PATH (not in fs.constants): a handle on the inode that reads nothing, so FIFOs cannot block. */
const O_PATH = 0o10000000;

export class BindPins {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The host path to give the engine for `hostPath`, which must lie in the volume at `volumeRoot`: a pin of
   * what `hostPath` is now, nosuid,nodev, and read-only when `readOnly`. `shownAs` names it in errors (the
   * caller's path).
   */
  async pin(
    key: string,
    index: number,
    hostPath: string,
    volumeRoot: string,
    shownAs: string,
    readOnly: boolean,
  ): Promise<string> {
    const root = await realpath(volumeRoot);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(hostPath, O_PATH | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'ELOOP'
            ? 'is a symlink'
            : `cannot be opened (${code})`;
      throw new ProxyDenial(403, 'bind', `bind source ${quote(shownAs)} ${why} in the instance`);
    }
    try {
      const opened = await handle.stat();
      if (opened.isSymbolicLink())
        throw new ProxyDenial(403, 'bind', `bind source ${quote(shownAs)} is a symlink`);
      if (!opened.isDirectory() && !opened.isFile()) {
        throw new ProxyDenial(403, 'bind', `bind source ${quote(shownAs)} is neither a directory nor a file`);
      }
      // Where the opened inode is now: symlinks swapped in anywhere along the path show here.
      const location = await readlink(`/proc/self/fd/${handle.fd}`);
      if (location !== root && !location.startsWith(`${root}/`)) {
        throw new ProxyDenial(
          403,
          'bind',
          `bind source ${quote(shownAs)} leads outside the instance's volume (through a symlink)`,
        );
      }
      const mountPoint = join(this.dir, key, String(index));
      await mkdir(join(this.dir, key), { recursive: true, mode: 0o700 });
      if (opened.isDirectory()) await mkdir(mountPoint, { mode: 0o700 });
      else await writeFile(mountPoint, '', { mode: 0o600 });
      await run(['mount', '--no-canonicalize', '--bind', '--', '/proc/self/fd/3', mountPoint], handle.fd);
      const flags = `remount,bind,nosuid,nodev${readOnly ? ',ro' : ''}`;
      await run(['mount', '--no-canonicalize', '-o', flags, '--', mountPoint]).catch(async (error) => {
        await this.release(key);
        throw error;
      });
      const mounted = await stat(mountPoint);
      if (mounted.ino !== opened.ino || mounted.dev !== opened.dev) {
        await this.release(key);
        throw new ProxyDenial(
          403,
          'bind',
          `bind source ${quote(shownAs)} changed while it was being mounted`,
        );
      }
      return mountPoint;
    } finally {
      await handle.close();
    }
  }

  /** Unmounts and removes the pins of one container. */
  async release(key: string): Promise<void> {
    const dir = join(this.dir, key);
    const entries = await readdir(dir).catch(() => []);
    for (const entry of entries) await unmount(join(dir, entry));
    await rm(dir, { recursive: true, force: true });
  }

  /** Releases every pin whose key is not in `keep` (containers that are gone); all of them by default. */
  async releaseAllBut(keep: ReadonlySet<string> = new Set()): Promise<void> {
    const keys = await readdir(this.dir).catch(() => []);
    for (const key of keys) if (!keep.has(key)) await this.release(key);
  }
}

/** Unmounts a pin; one that is not mounted (a crash between mkdir and mount) is fine. */
async function unmount(path: string): Promise<void> {
  try {
    await run(['umount', '--lazy', '--', path]);
  } catch (error) {
    if (!/not mounted|no mount point/i.test((error as Error).message)) throw error;
  }
}

/** Runs mount or umount; `fd` becomes the child's fd 3. */
function run([command, ...args]: [string, ...string[]], fd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe', ...(fd === undefined ? [] : [fd])],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${command} ${args.at(-1)} failed (exit ${code}): ${stderr.trim()} (it needs root)`),
        );
    });
  });
}
