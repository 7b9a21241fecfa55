/**
 * The host's real model proxy (packages/nanoclaw) in front of a model server, for tests and benches that
 * run the agent image by itself: the proxy holds the key, each agent gets a run token in its input.
 */
import { ModelProxy } from '../../../nanoclaw/src/agent/model-proxy.ts';
import type { RunToken } from '../../../nanoclaw/src/agent/run-tokens.ts';
import { silentLogger } from '../../../nanoclaw/src/log.ts';
import type { AgentDirs } from './agent-container.ts';

/** The key the proxy sends upstream: what a model server sees when a request came through the proxy. */
export const PROXY_MODEL_KEY = 'sk-ant-test-key-held-by-the-host-only';

export interface TestModelProxy {
  /** Listens on the socket in `dirs.model` (each set of dirs is a group of its own). */
  serve(dirs: AgentDirs): Promise<void>;
  /** A run token for the agent started on `dirs`. */
  token(dirs: AgentDirs): string;
  /** Ends every token given out so far. */
  revokeAll(): void;
  close(): Promise<void>;
}

export function startTestModelProxy(endpoint: string): TestModelProxy {
  const proxy = new ModelProxy({
    credential: { apiKey: PROXY_MODEL_KEY, authToken: undefined },
    endpoint,
    log: silentLogger,
  });
  const issued: RunToken[] = [];
  return {
    serve: (dirs) => proxy.serveGroup(dirs.root, `${dirs.model}/model.sock`),
    token: (dirs) => {
      const token = proxy.issueToken(dirs.root);
      issued.push(token);
      return token.value;
    },
    revokeAll: () => {
      for (const token of issued.splice(0)) token.revoke();
    },
    close: () => proxy.close(),
  };
}
