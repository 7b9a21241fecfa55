/**
 * Restarts the Docker engine under a test or bench, as an upgrade or a crash of dockerd would: SIGTERM
 * (every container stops: no live-restore), then the same command line started again in its own session,
 * unless whatever supervises it (systemd) already did. Only for tests that run alone (`*.alone.test.ts`)
 * and benches: every other container on the machine stops too.
 */
import { execFile, spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LOG = '/var/log/boilerhouse-dockerd.log';

export interface EngineRestart {
  /** When the engine answered again (performance.now()). */
  upAt: number;
  /** How long it was down, in ms. */
  downMs: number;
}

export async function restartEngine(): Promise<EngineRestart> {
  const pid = Number((await run('pgrep', ['-x', 'dockerd'])).stdout.trim().split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('no dockerd process to restart');
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  const stoppedAt = performance.now();
  process.kill(pid, 'SIGTERM');
  await until(async () => !(await alive(pid)), 60_000, 'dockerd to stop');
  // A supervisor may start it again by itself; otherwise it is started as it was.
  if (!(await answers())) {
    const log = await open(LOG, 'a');
    const child = spawn(argv[0] as string, argv.slice(1), {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    child.unref();
    await log.close();
  }
  await until(answers, 60_000, 'dockerd to answer again');
  const upAt = performance.now();
  return { upAt, downMs: upAt - stoppedAt };
}

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function answers(): Promise<boolean> {
  return run('docker', ['version', '--format', '{{.Server.Version}}']).then(
    () => true,
    () => false,
  );
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
