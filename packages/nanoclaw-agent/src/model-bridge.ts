/**
 * The agent's way to the model (AGENT-PROTOCOL.md, "The model"): the host's model proxy listens on a
 * unix socket mounted at /workspace/model/model.sock, and the SDK's CLI speaks HTTP over TCP only, so a
 * loopback bridge (socket-bridge.ts) carries each connection, byte for byte, to that socket.
 * The CLI gets the bridge's address as ANTHROPIC_BASE_URL and the run's token as ANTHROPIC_API_KEY; the model's
 * real credential is the host's alone, and nothing in the container ever holds it.
 */
import { stat } from 'node:fs/promises';

/** Says what is wrong when the proxy's socket is not there, or null when it is. */
export async function modelSocketError(socketPath: string): Promise<string | null> {
  const stats = await stat(socketPath).catch(() => undefined);
  if (stats?.isSocket()) return null;
  return `The host's model proxy is not reachable: ${socketPath} is ${stats === undefined ? 'missing' : 'not a socket'} (the host mounts its model dir at /workspace/model).`;
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
