/**
 * The set-up every test of the real agent image shares: the image checked against the tree, one scripted
 * model server whose replies each test sets (`respond`), the host's model proxy in front of it (on
 * loopback: agents reach it through their socket, so no Docker bridge address is needed), and the agent
 * containers, tokens and directories a test made, removed after it.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  type AgentDirs,
  assertAgentImageCurrent,
  makeAgentDirs,
  removeAgentContainers,
  removeAgentDirs,
} from './agent-container.ts';
import { startTestModelProxy, type TestModelProxy } from './model-proxy.ts';
import { type ModelServer, type Responder, startModelServer } from './model-server.ts';

export interface AgentFixture {
  /** The model server (set once the suite has started). */
  readonly server: ModelServer;
  /** What the model answers; each test sets its own. */
  respond: Responder;
  /** Fresh agent directories for `group`, with the model proxy's socket, removed when the suite ends. */
  dirsFor(group: string): Promise<AgentDirs>;
  /** A run token for an agent started on `dirs` (its input's `modelToken`); revoked after the test. */
  token(dirs: AgentDirs): string;
}

export function useAgentFixture(): AgentFixture {
  let server: ModelServer | undefined;
  let proxy: TestModelProxy | undefined;
  const allDirs: AgentDirs[] = [];
  const started = () => {
    if (server === undefined || proxy === undefined) throw new Error('the model server has not started yet');
    return { server, proxy };
  };
  const fixture: AgentFixture = {
    get server() {
      return started().server;
    },
    respond: () => [{ type: 'text', text: 'no script for this test' }],
    async dirsFor(group) {
      const dirs = await makeAgentDirs(group);
      allDirs.push(dirs);
      await started().proxy.serve(dirs);
      return dirs;
    },
    token: (dirs) => started().proxy.token(dirs),
  };
  beforeAll(async () => {
    await assertAgentImageCurrent();
    server = await startModelServer((request) => fixture.respond(request), { host: '127.0.0.1' });
    proxy = startTestModelProxy(server.url);
  });
  afterEach(async () => {
    await removeAgentContainers();
    proxy?.revokeAll();
    if (server !== undefined) {
      server.requests.length = 0;
      server.received.length = 0;
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    for (const dirs of allDirs) await removeAgentDirs(dirs);
  });
  return fixture;
}
