/**
 * A small tmpfs for disk-full faults: mounted on a directory of the test's own, filled to the last byte
 * with a ballast file, freed again, and unmounted. Needs root, as the daemon does.
 */
import { execFile } from 'node:child_process';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readMounts } from '../../../packages/boilerhouse/src/pool/volume-mount.ts';

const run = promisify(execFile);
const BALLAST = '.fault-ballast';
const WRITE_BYTES = 64 * 1024;

export interface Tmpfs {
  dir: string;
  /** Writes a ballast file until the filesystem has no byte left (ENOSPC); returns its size. */
  fill(): Promise<number>;
  /** Removes the ballast. */
  free(): Promise<void>;
  /** Unmounts it (not lazily: a busy mount fails the test, since something still holds it). */
  unmount(): Promise<void>;
}

export async function mountTmpfs(dir: string, bytes: number): Promise<Tmpfs> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'boilerhouse-fault', dir]);
  const ballast = join(dir, BALLAST);
  let mounted = true;
  return {
    dir,
    async fill() {
      const handle = await open(ballast, 'a');
      const block = Buffer.alloc(WRITE_BYTES, 0x5a);
      let size = (await handle.stat()).size;
      try {
        for (;;) {
          const { bytesWritten } = await handle.write(block, 0, block.length, null);
          size += bytesWritten;
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await handle.close();
      }
      return size;
    },
    async free() {
      await unlink(ballast).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
    async unmount() {
      if (!mounted) return;
      await run('umount', ['--', dir]);
      mounted = false;
    },
  };
}

/** Mount points at or under `dir`, from /proc/self/mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  return (await readMounts())
    .map((entry) => entry.point)
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}
