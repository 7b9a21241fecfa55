/**
 * Finding, starting and stopping the socket host of a data directory. The host is started detached (a
 * session of its own, so that a signal to the daemon's process group does not reach it), with the
 * daemon's own Node, its output appended to `<dataDir>/socket-host.log`, and an environment of PATH (for
 * mount) and DOCKER_HOST only: the daemon's environment holds keys the host has no use for.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { HostConnection } from './connection.ts';
import { HOST_MAIN, hostPaths } from './paths.ts';

export interface SpawnOptions {
  dataDir: string;
  daemonId: string;
  dockerHost: string;
  idleMs: number;
  /** How long to wait for a host to answer. */
  timeoutMs?: number;
}

/** A connection to the directory's host, started first when none answers. */
export async function connectOrSpawn(options: SpawnOptions): Promise<HostConnection> {
  const paths = hostPaths(options.dataDir);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let exited: Promise<number | null> | undefined;
  let spawned = 0;
  let lastError: unknown;
  for (;;) {
    try {
      return await HostConnection.open(paths.control, options.daemonId);
    } catch (error) {
      lastError = error;
    }
    // None answers: start one, unless one we started is still on its way up. One that found the lock
    // taken exits at once (another host is starting or stopping), and another is tried.
    const running =
      exited === undefined ? false : await Promise.race([exited.then(() => false), delay(50, true)]);
    if (!running) {
      if (spawned >= 5) break;
      // A host that is stopping holds the lock for a moment yet.
      if (spawned > 0) await delay(200 * spawned, undefined);
      exited = (await spawnHost(options)).exited;
      spawned++;
    }
    if (Date.now() > deadline) break;
  }
  const log = await readFile(paths.log, 'utf8').catch(() => '');
  throw new Error(
    `no socket host answered at ${paths.control} (${(lastError as Error)?.message}); the end of ${paths.log}:\n${log.slice(-2_000)}`,
  );
}

/** Starts a host; `exited` resolves with its exit code. */
async function spawnHost(options: SpawnOptions): Promise<{ exited: Promise<number | null> }> {
  const paths = hostPaths(options.dataDir);
  const log = await open(paths.log, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [HOST_MAIN, options.dataDir, '--idle-ms', String(options.idleMs)], {
      detached: true,
      // Holds no directory of the daemon's (a test's, a removed one) busy.
      cwd: '/',
      stdio: ['ignore', log.fd, log.fd],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', DOCKER_HOST: options.dockerHost },
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    child.unref();
    return { exited };
  } finally {
    await log.close();
  }
}

/**
 * Stops the directory's host (tests' and benches' teardown): asked over the control socket, else by its
 * pid. Its sockets close; children keep running. Resolves once it is gone; false when there was none.
 */
export async function stopSocketHost(dataDir: string, timeoutMs = 10_000): Promise<boolean> {
  const paths = hostPaths(dataDir);
  const pid = Number((await readFile(paths.pid, 'utf8').catch(() => '')).trim()) || undefined;
  const deadline = Date.now() + timeoutMs;
  try {
    const connection = await HostConnection.open(paths.control, 'teardown', 2_000);
    await connection.request('shutdown', {}).catch(() => undefined);
    // A shutdown that hangs (a connection that never closes) is cut short by the deadline below.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      connection.closed,
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  } catch {
    if (pid === undefined || !(await isSocketHost(pid))) return false;
    process.kill(pid, 'SIGKILL');
  }
  while (pid !== undefined && (await isSocketHost(pid))) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await delay(20, undefined);
  }
  return true;
}

/** Whether `pid` is a live socket host (not a process that took the number over). */
async function isSocketHost(pid: number): Promise<boolean> {
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // A zombie (state Z) has exited already.
  return command.includes(HOST_MAIN) && !/^\d+ \(.*\) Z/.test(stat);
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
