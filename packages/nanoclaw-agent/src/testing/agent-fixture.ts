/**
 * The set-up every test of the real agent image shares: the image checked against the tree, one scripted
 * model server whose replies each test sets (`respond`), and the agent containers and directories a test
 * made, removed after it.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  type AgentDirs,
  assertAgentImageCurrent,
  makeAgentDirs,
  removeAgentContainers,
  removeAgentDirs,
} from './agent-container.ts';
import { type ModelServer, type Responder, startModelServer } from './model-server.ts';

export interface AgentFixture {
  /** The model server (set once the suite has started). */
  readonly server: ModelServer;
  /** What the model answers; each test sets its own. */
  respond: Responder;
  /** Fresh agent directories for `group`, removed when the suite ends. */
  dirsFor(group: string): Promise<AgentDirs>;
}

export function useAgentFixture(): AgentFixture {
  let server: ModelServer | undefined;
  const allDirs: AgentDirs[] = [];
  const fixture: AgentFixture = {
    get server() {
      if (server === undefined) throw new Error('the model server has not started yet');
      return server;
    },
    respond: () => [{ type: 'text', text: 'no script for this test' }],
    async dirsFor(group) {
      const dirs = await makeAgentDirs(group);
      allDirs.push(dirs);
      return dirs;
    },
  };
  beforeAll(async () => {
    await assertAgentImageCurrent();
    server = await startModelServer((request) => fixture.respond(request));
  });
  afterEach(async () => {
    await removeAgentContainers();
    if (server !== undefined) server.requests.length = 0;
  });
  afterAll(async () => {
    await server?.close();
    for (const dirs of allDirs) await removeAgentDirs(dirs);
  });
  return fixture;
}
