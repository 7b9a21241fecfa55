/**
 * A Boilerhouse daemon run as a child process (daemon-main.ts) on a data directory that outlives it, so a
 * test can SIGKILL it and start another on the same directory; and its HTTP API with the admin key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

const MAIN = new URL('./daemon-main.ts', import.meta.url).pathname;

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  daemonId: string;
  /** Log lines the daemon wrote (warnings and errors). */
  stderr: string[];
  /** A JSON API call with the admin key; a non-2xx answer throws with the error's message. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop (instances keep running). */
  stop(): Promise<void>;
}

export interface DaemonDirs {
  dataDir: string;
  workloadsDir: string;
  /** The admin key every start of this daemon accepts. */
  apiKey: string;
}

export function daemonDirs(root: string): DaemonDirs {
  return {
    dataDir: `${root}/data`,
    workloadsDir: `${root}/workloads`,
    apiKey: randomBytes(24).toString('base64url'),
  };
}

export async function spawnDaemon(dirs: DaemonDirs, env: Record<string, string>): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [MAIN], {
    // Values travel in the environment, never on a command line.
    env: {
      PATH: process.env.PATH ?? '',
      BOILERHOUSE_DATA_DIR: dirs.dataDir,
      BOILERHOUSE_WORKLOADS_DIR: dirs.workloadsDir,
      BOILERHOUSE_PORT: '0',
      BOILERHOUSE_API_KEY: dirs.apiKey,
      BOILERHOUSE_LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) =>
    stderr.push(...chunk.toString('utf8').split('\n').filter(Boolean)),
  );
  const exited = once(child, 'exit');
  const started = await new Promise<{ url: string; daemonId: string }>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) resolve(JSON.parse(line));
    });
    void exited.then(([code]) =>
      reject(new Error(`the daemon exited with ${code} before serving:\n${stderr.join('\n')}`)),
    );
  });
  const headers = { Authorization: `Bearer ${dirs.apiKey}`, 'Content-Type': 'application/json' };
  return {
    child,
    ...started,
    stderr,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await fetch(`${started.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await response.json()) as T & { error?: { message: string } };
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${json.error?.message}`);
      return json;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
