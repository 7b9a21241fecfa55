/**
 * An S3-compatible server (s3rver) that a fault test can take down and bring back: the same loopback port
 * and the same object directory each time, so a sink configured with its endpoint sees the outage and then
 * the very objects it wrote before.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type S3Server, startS3Server } from '../../../packages/boilerhouse/src/state/sinks/s3-server.ts';

export interface RestartableS3 {
  endpoint: string;
  bucket: string;
  port: number;
  /** Where the objects are kept, across stops. */
  directory: string;
  /** Whether it is serving now. */
  readonly up: boolean;
  /** Starts it again on the same port and directory (no-op when up). */
  start(): Promise<void>;
  /** Stops it, cutting its connections; its objects stay (no-op when down). */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

export async function startRestartableS3(bucket: string): Promise<RestartableS3> {
  const directory = await mkdtemp(join(tmpdir(), 'boilerhouse-faults-s3-'));
  let port = await freeLoopbackPort();
  let server: S3Server | undefined;
  try {
    server = await startS3Server(bucket, { port, directory });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  port = server.port;
  const s3: RestartableS3 = {
    endpoint: server.endpoint,
    bucket,
    port,
    directory,
    get up() {
      return server !== undefined;
    },
    async start() {
      server ??= await startS3Server(bucket, { port, directory });
    },
    async stop() {
      const running = server;
      server = undefined;
      await running?.stop();
    },
    async remove() {
      await s3.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return s3;
}

/** A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port from the probe'));
      });
    });
  });
}
