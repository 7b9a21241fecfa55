/**
 * A real S3-compatible server (s3rver) on 127.0.0.1 and a free port, in a process of its own (see
 * s3-server-process.ts), keeping its objects in a temporary directory: for tests and benchmarks of the S3
 * sink. Nothing here leaves the machine. Fault tests stop a server and start another on the same port and
 * directory, which then serves the same objects at the same endpoint.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The one key pair s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3Server {
  /** `http://127.0.0.1:<port>`; address buckets by path (`forcePathStyle`). */
  endpoint: string;
  bucket: string;
  port: number;
  /** Where its objects are. */
  directory: string;
  /** Stops the server, cutting its connections, and removes its directory unless the caller gave it. */
  stop(): Promise<void>;
}

export interface S3ServerPlace {
  /** Default: any free port. */
  port?: number;
  /** The caller's directory, kept when the server stops; default: a new temporary one, removed then. */
  directory?: string;
}

const PROCESS = fileURLToPath(new URL('./s3-server-process.ts', import.meta.url));

export async function startS3Server(
  bucket = 'boilerhouse-test',
  place: S3ServerPlace = {},
): Promise<S3Server> {
  const directory = place.directory ?? (await mkdtemp(join(tmpdir(), 'boilerhouse-s3rver-')));
  const child = fork(PROCESS, [directory, bucket, String(place.port ?? 0)], {
    execArgv: ['--openssl-legacy-provider'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const remove = async () => {
    if (place.directory === undefined) await rm(directory, { recursive: true, force: true });
  };
  try {
    const [message] = (await Promise.race([
      once(child, 'message'),
      exited.then(([code]) => Promise.reject(new Error(`s3rver exited with code ${code} before listening`))),
    ])) as [{ port: number }];
    let stopped: Promise<void> | undefined;
    return {
      endpoint: `http://127.0.0.1:${message.port}`,
      bucket,
      port: message.port,
      directory,
      stop() {
        stopped ??= (async () => {
          child.kill('SIGTERM');
          await exited;
          await remove();
        })();
        return stopped;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await remove();
    throw error;
  }
}
