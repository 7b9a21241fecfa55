/**
 * The agent's way to the model (AGENT-PROTOCOL.md, "The model"): the host's model proxy listens on a
 * unix socket mounted at /workspace/model/model.sock, and the SDK's CLI speaks HTTP over TCP only, so a
 * loopback listener here (127.0.0.1, a free port) carries each connection, byte for byte, to that socket.
 * The CLI gets this address as ANTHROPIC_BASE_URL and the run's token as ANTHROPIC_API_KEY; the model's
 * real credential is the host's alone, and nothing in the container ever holds it.
 */
import { stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ModelBridge {
  /** For ANTHROPIC_BASE_URL: http://127.0.0.1:PORT */
  url: string;
  close(): void;
}

/** Says what is wrong when the proxy's socket is not there, or null when it is. */
export async function modelSocketError(socketPath: string): Promise<string | null> {
  const stats = await stat(socketPath).catch(() => undefined);
  if (stats?.isSocket()) return null;
  return `The host's model proxy is not reachable: ${socketPath} is ${stats === undefined ? 'missing' : 'not a socket'} (the host mounts its model dir at /workspace/model).`;
}

export async function startModelBridge(
  socketPath: string,
  log: (message: string) => void,
): Promise<ModelBridge> {
  const server: Server = createServer((client: Socket) => {
    const proxy = connect(socketPath);
    const end = (error?: Error) => {
      if (error) log(`model connection to ${socketPath} failed: ${error.message}`);
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
  if (address === null || typeof address === 'string') throw new Error('the model bridge has no TCP port');
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

/**
 * The CLI's environment: the container's own, with the model's address and key replaced by the bridge
 * and the run's token (any other credential variable removed, so the CLI sends only the token).
 */
export function cliEnvironment(env: NodeJS.ProcessEnv, bridgeUrl: string, token: string): NodeJS.ProcessEnv {
  const {
    ANTHROPIC_AUTH_TOKEN: _authToken,
    CLAUDE_CODE_OAUTH_TOKEN: _oauthToken,
    ANTHROPIC_API_KEY: _apiKey,
    ANTHROPIC_BASE_URL: _baseUrl,
    ...rest
  } = env;
  return { ...rest, ANTHROPIC_BASE_URL: bridgeUrl, ANTHROPIC_API_KEY: token };
}
