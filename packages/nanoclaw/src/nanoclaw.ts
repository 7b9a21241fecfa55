/**
 * Wires the host together: stores -> channels -> agents -> queue -> scheduler and IPC watcher -> HTTP
 * server, then the channels connected and the work left by the last run queued. `main.ts` calls it with
 * the configuration; tests call it the same way (port 0, their own home).
 */
import type { Server } from 'node:http';
import { startAgents } from './agent/agents.ts';
import { ModelProxy } from './agent/model-proxy.ts';
import type { PreparedAgent } from './agent/runner.ts';
import { connectChannels, openChannels } from './channels/host-channels.ts';
import type { SocketFactory } from './channels/whatsapp.ts';
import type { Config } from './config.ts';
import { GroupFiles } from './files/group-files.ts';
import { serveHost } from './http/host-server.ts';
import { serverUrl } from './http/server.ts';
import { Snapshots } from './ipc/snapshots.ts';
import { Layout, MAIN_FOLDER, prepareHome } from './layout.ts';
import { createLogger, type Logger } from './log.ts';
import { hostMcp } from './mcp/host-mcp.ts';
import { hostQueue } from './queue/host-queue.ts';
import { listenToChannels } from './router/listen.ts';
import { Outbound } from './router/outbound.ts';
import { hostLoops } from './scheduler/host-loops.ts';
import { openStores } from './store/host-stores.ts';
import { dayOf } from './usage/periods.ts';
import type { ReportDeps } from './usage/report.ts';

export interface StartOptions {
  log?: Logger;
  /** Replaces Baileys' socket (tests drive the WhatsApp adapter through a stand-in). */
  whatsappSocket?: SocketFactory;
  /** The main group's agent container, started before this start (agent/ahead-of-start.ts). */
  agentAhead?: Promise<PreparedAgent | undefined>;
  /** The clock of usage days, limits and schedules (tests move it a day on without waiting one). */
  now?: () => number;
}

export interface Nanoclaw {
  /** The HTTP server's base URL. */
  url: string;
  layout: Layout;
  stop(): Promise<void>;
}

export async function startNanoclaw(config: Config, options: StartOptions = {}): Promise<Nanoclaw> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const now = options.now ?? (() => Date.now());
  const layout = new Layout(config.home);
  prepareHome(layout, config.assistantName);
  const stores = openStores(config, layout, log, now);
  const { db, messages, groups, state, usage } = stores;
  const files = new GroupFiles(layout);
  const report: ReportDeps = { usage, failures: stores.failures, config, now };

  const channels = await openChannels({
    config,
    layout,
    messages,
    groups,
    files,
    log,
    whatsappSocket: options.whatsappSocket,
  }).catch((error: unknown) => {
    db.close();
    throw error;
  });
  const outbound = new Outbound({
    channels: channels.all,
    messages,
    state,
    assistantName: config.assistantName,
    files,
    log,
  });
  const snapshots = new Snapshots({
    layout,
    tasks: stores.tasks,
    taskRuns: stores.taskRuns,
    chats: stores.chats,
    groups,
  });

  // MCP servers per group; those holding a credential run beside this process (mcp/).
  const mcp = hostMcp({ config, layout, db, groups, log, now });
  // The model's credential stays in this process: agents get a token per run (agent/model-proxy.ts).
  const modelProxy = new ModelProxy({
    credential: { apiKey: config.model.apiKey, authToken: config.model.authToken },
    endpoint: config.model.baseUrl,
    log,
    recordUsage: (folder, used) => usage.add(dayOf(now(), config.timezone), folder, used),
  });
  // `loops` is made below, from the queue; runs reach it only after the start, once it is there.
  const agents = startAgents({
    config,
    layout,
    groups,
    modelProxy,
    mcp,
    log,
    agentAhead: options.agentAhead,
    beforeRun: (folder) => {
      snapshots.write(folder);
      loops.watchGroup(folder);
    },
  });
  const queue = hostQueue({
    config,
    layout,
    log,
    stores,
    outbound,
    mcp,
    report,
    launch: agents.launch,
    changed: () => loops.changed(),
    now,
  });
  const loops = hostLoops({
    config,
    layout,
    tasks: stores.tasks,
    groups,
    files,
    snapshots,
    outbound,
    queue,
    now,
    log,
  });
  listenToChannels(channels.all, {
    ...stores,
    files,
    outbound,
    web: channels.web,
    enqueue: (folder) => queue.enqueueMessages(folder),
    newChat: () => snapshots.write(MAIN_FOLDER),
    now,
    log,
  });

  let server: Server;
  try {
    server = await serveHost({ config, channels, queue, messages, held: stores.held, report, log });
  } catch (error) {
    db.close();
    throw error;
  }
  try {
    await connectChannels(channels.all, log);
  } catch (error) {
    await new Promise((resolve) => server.close(resolve));
    db.close();
    throw error;
  }

  loops.start();
  // Messages stored before a restart and not answered yet; the main group's run armed if it has none.
  for (const [, group] of groups.entries()) {
    if (config.armAtStart && group.folder === MAIN_FOLDER) queue.armMessages(MAIN_FOLDER);
    else queue.enqueueMessages(group.folder);
  }
  if (config.prewarm && !config.armAtStart && groups.jidOf(MAIN_FOLDER) !== undefined)
    agents.warm.refill(MAIN_FOLDER);

  let stopping: Promise<void> | undefined;
  return {
    url: serverUrl(server),
    layout,
    // In the order work stops: what starts runs, the agents (their runs end, and the queue waits for them),
    // what runs reach, then the ways in and out and the store. Not the reverse of the start: the channels
    // and the server close last, so a stopped run's replies are still delivered and /health still answers.
    stop: () => {
      stopping ??= (async () => {
        await loops.stop();
        await agents.stop();
        await queue.stop();
        await modelProxy.close();
        await mcp.close();
        await Promise.allSettled(channels.all.map((channel) => channel.disconnect()));
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        db.close();
      })();
      return stopping;
    },
  };
}
