/**
 * A run hands follow-ups to its agent from the moment it asks for a container (message-run.ts: an armed
 * run takes the first message as one). The launch empties the group's input dir, so that must happen at
 * the call: done after its wait for the engine (the last run's leftovers removed), it deleted a message
 * that came in meanwhile, and the run waited out its 10-minute turn timeout. The real engine answers;
 * the agent image is one that does not exist, so the launch stops right after that wait.
 */
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Layout, MAIN_FOLDER, prepareHome } from '../layout.ts';
import { silentLogger } from '../log.ts';
import { hostMcp } from '../mcp/host-mcp.ts';
import { type HostStores, openStores } from '../store/host-stores.ts';
import { tempHome } from '../testing/temp-home.ts';
import { type Agents, startAgents } from './agents.ts';
import { inputDir, writeFollowUp } from './input-dir.ts';
import { ModelProxy } from './model-proxy.ts';
import { AgentImageMissingError } from './runner.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let stores: HostStores;
let agents: Agents;
let closeAll: () => Promise<void>;
let layout: Layout;

beforeEach(async () => {
  home = await tempHome();
  const config = loadConfig(
    { NANOCLAW_HOME: home.path, CONTAINER_IMAGE: 'boilerhouse-test/no-such-agent:none' },
    home.path,
  );
  layout = new Layout(config.home);
  prepareHome(layout, config.assistantName);
  stores = openStores(config, layout, silentLogger, Date.now);
  const modelProxy = new ModelProxy({
    credential: { apiKey: 'test-key', authToken: undefined },
    endpoint: undefined,
    log: silentLogger,
  });
  const mcp = hostMcp({
    config,
    layout,
    db: stores.db,
    groups: stores.groups,
    log: silentLogger,
    now: Date.now,
  });
  agents = startAgents({
    config,
    layout,
    groups: stores.groups,
    modelProxy,
    mcp,
    log: silentLogger,
    agentAhead: undefined,
    beforeRun: () => undefined,
  });
  closeAll = async () => {
    await agents.stop();
    await modelProxy.close();
    await mcp.close();
    stores.db.close();
  };
});

afterEach(async () => {
  await closeAll();
  await home.remove();
});

it('keeps a follow-up written as soon as the launch is asked for, while it waits for the engine', async () => {
  const launching = agents.launch({
    group: { name: 'Main', folder: MAIN_FOLDER, addedAt: new Date().toISOString() },
    chatJid: 'web:main',
    prompt: null,
    sessionId: null,
    isScheduledTask: false,
    onOutput: () => undefined,
  });
  writeFollowUp(layout.ipcDir(MAIN_FOLDER), 'a message that came in as the agent was armed');
  await expect(launching).rejects.toBeInstanceOf(AgentImageMissingError);
  expect(readdirSync(inputDir(layout.ipcDir(MAIN_FOLDER)))).toHaveLength(1);
});
