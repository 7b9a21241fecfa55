/**
 * A TCP relay on loopback in front of a server, that a fault test can make stall: while stalled it
 * accepts connections and reads nothing, forwards nothing, answers nothing (a sink that hangs, rather than
 * one that refuses); `flow()` lets every connection go on where it stopped.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface StallingRelay {
  endpoint: string;
  stall(): void;
  flow(): void;
  close(): Promise<void>;
}

export async function startStallingRelay(target: { host: string; port: number }): Promise<StallingRelay> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (stalled) socket.pause();
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('error', () => upstream.destroy());
    upstream.once('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stall() {
      stalled = true;
      for (const socket of sockets) socket.pause();
    },
    flow() {
      stalled = false;
      for (const socket of sockets) socket.resume();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
