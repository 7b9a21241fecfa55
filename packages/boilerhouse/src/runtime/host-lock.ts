/**
 * A lock shared by every process on this host: an abstract unix socket (Linux), which only one process can
 * bind and which the kernel releases when that process dies, so a crash never leaves a stale lock behind.
 */
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_MS = 10;

/** Runs `work` while holding the host-wide lock `name`; waits at most `timeoutMs` for it. */
export async function withHostLock<T>(name: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const server = await acquire(`\0${name}`, timeoutMs, name);
  try {
    return await work();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function acquire(path: string, timeoutMs: number, name: string): Promise<Server> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = createServer();
    const bound = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ path }, () => resolve(undefined));
    });
    if (bound === undefined) return server;
    if (bound.code !== 'EADDRINUSE') throw bound;
    if (Date.now() > deadline)
      throw new Error(`another process held the host lock ${JSON.stringify(name)} for over ${timeoutMs}ms`);
    await sleep(RETRY_MS);
  }
}
