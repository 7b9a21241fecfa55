/**
 * A tenant that keeps swapping part of its volume for a symbolic link, for attack tests: a separate process
 * (so it races the daemon's system calls for real) running as the tenant's user. A file is swapped with
 * rename-over (it is always either the real inode, kept by a hard link, or the link); a directory is moved
 * aside and a link put in its place, then moved back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, rename, unlink } from 'node:fs/promises';

export interface Swap {
  kind: 'file' | 'dir';
  /** The path the daemon reads. */
  live: string;
  /** Where the real file or directory is kept meanwhile (same file system, outside what is saved). */
  keep: string;
  /** What the link points to. */
  target: string;
  uid?: number;
  gid?: number;
  /** Microseconds the link stays in place each time (a longer window for slower races). */
  lingerUs?: number;
}

const LOOP = `
const fs = require('node:fs');
const { kind, live, keep, target, lingerUs = 0 } = JSON.parse(process.argv[1]);
const ignore = (work) => { try { work(); } catch {} };
const linger = () => { const until = process.hrtime.bigint() + BigInt(lingerUs * 1000); while (process.hrtime.bigint() < until); };
if (kind === 'file') fs.linkSync(live, keep);
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  if (kind === 'file') {
    ignore(() => fs.symlinkSync(target, keep + '.l'));
    ignore(() => fs.renameSync(keep + '.l', live));
    linger();
    ignore(() => fs.linkSync(keep, keep + '.r'));
    ignore(() => fs.renameSync(keep + '.r', live));
  } else {
    ignore(() => fs.renameSync(live, keep));
    ignore(() => fs.symlinkSync(target, live));
    linger();
    ignore(() => fs.unlinkSync(live));
    ignore(() => fs.renameSync(keep, live));
  }
}
`;

export interface Swapper {
  stop(): Promise<void>;
}

/** Starts swapping; resolves once the loop runs. `stop` kills it and leaves the real entry in place. */
export async function startSwapper(swap: Swap): Promise<Swapper> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LOOP, JSON.stringify(swap)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    uid: swap.uid ?? 1000,
    gid: swap.gid ?? 1000,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the swapper exited (${code}) before it started`)));
    child.stdout?.once('data', () => resolve());
  });
  return {
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const live = await lstat(swap.live).catch(() => undefined);
      if (swap.kind === 'dir') {
        if (live?.isSymbolicLink()) await unlink(swap.live);
        if (!live?.isDirectory()) await rename(swap.keep, swap.live).catch(() => undefined);
      } else if (!live?.isFile()) {
        await rename(swap.keep, swap.live);
      }
    },
  };
}
