/**
 * One socket host per data directory: the lock is an abstract unix socket (hostPaths().lock) that only one
 * process can bind, freed by the kernel when it exits, even by kill -9. Nothing connects to it.
 */
import { createServer, type Server } from 'node:net';

/** The lock's server, or undefined when another process holds it. */
export function acquireLock(name: string): Promise<Server | undefined> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen(name, () => resolve(server));
  });
}
