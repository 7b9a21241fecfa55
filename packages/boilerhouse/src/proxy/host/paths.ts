/**
 * Where a data directory's socket host keeps its files: the control socket (0600, in the daemon's 0700
 * data directory), its pid and its log. Its lock is an abstract unix socket named after the data
 * directory: the kernel frees it when the process ends, however it ends, so a stale lock cannot exist.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

export interface HostPaths {
  control: string;
  pid: string;
  log: string;
  /** An abstract socket name (leading NUL): held by the one host serving the directory. */
  lock: string;
}

export function hostPaths(dataDir: string): HostPaths {
  const dir = resolve(dataDir);
  const digest = createHash('sha256').update(dir).digest('hex').slice(0, 32);
  return {
    control: join(dir, 'socket-host.sock'),
    pid: join(dir, 'socket-host.pid'),
    log: join(dir, 'socket-host.log'),
    lock: `\0boilerhouse-socket-host-${digest}`,
  };
}

/** The host's entry point, run with the daemon's own Node (process.execPath). */
export const HOST_MAIN = new URL('./main.ts', import.meta.url).pathname;
