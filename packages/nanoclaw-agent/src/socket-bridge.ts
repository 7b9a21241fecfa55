/**
 * A loopback listener (127.0.0.1, a free port) that carries each connection, byte for byte, to a unix
 * socket the host serves in a mounted directory: the SDK's CLI speaks HTTP over TCP only. The model
 * proxy's socket is reached this way (model-bridge.ts), and so is the host's MCP gateway (mcp-servers.ts).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SocketBridge {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): void;
}

export async function startSocketBridge(
  socketPath: string,
  log: (message: string) => void,
): Promise<SocketBridge> {
  const server: Server = createServer((client: Socket) => {
    const proxy = connect(socketPath);
    const end = (error?: Error) => {
      if (error) log(`connection to ${socketPath} failed: ${error.message}`);
      client.destroy();
      proxy.destroy();
    };
    client.on('error', end);
    proxy.on('error', end);
    client.pipe(proxy);
    proxy.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error(`the bridge to ${socketPath} has no TCP port`);
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}
