/**
 * Wires the host together: stores, channels, queue, scheduler, IPC watcher, HTTP server. `main.ts` calls
 * it with the configuration; tests call it the same way (port 0, their own home).
 */
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { dockerClient, removeLeftovers } from './agent/docker.ts';
import { containerSpec, type LaunchRequest, launchAgent } from './agent/launch.ts';
import { ModelProxy } from './agent/model-proxy.ts';
import { type AgentContainer, AgentRunner, type PreparedAgent } from './agent/runner.ts';
import { WarmAgents } from './agent/warm-agents.ts';
import type { Channel } from './channels/channel.ts';
import type { TelegramChannel } from './channels/telegram.ts';
import { WebChannel } from './channels/web.ts';
import { WebAuth } from './channels/web-auth.ts';
import { type SocketFactory, WhatsAppChannel } from './channels/whatsapp.ts';
import type { Config } from './config.ts';
import { GroupFiles } from './files/group-files.ts';
import { health } from './health.ts';
import { hostIdAt } from './host-id.ts';
import { trustedProxyList } from './http/forwarded.ts';
import { serverUrl, startHttpServer } from './http/server.ts';
import { ipcFileHandler } from './ipc/handle.ts';
import { Snapshots } from './ipc/snapshots.ts';
import { IpcWatcher } from './ipc/watcher.ts';
import { Layout, MAIN_FOLDER, prepareGroupDirs, prepareHome } from './layout.ts';
import { createLogger, type Logger } from './log.ts';
import { hostMcp } from './mcp/host-mcp.ts';
import { GroupQueue } from './queue/group-queue.ts';
import { runGroupMessages } from './queue/message-run.ts';
import { runScheduledTask } from './queue/task-run.ts';
import { heldNotice } from './router/command-handler.ts';
import { receiveMessage } from './router/inbound.ts';
import { Outbound } from './router/outbound.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { WakeFile } from './scheduler/wake-file.ts';
import { ChatStore } from './store/chats.ts';
import { openDatabase } from './store/database.ts';
import { GroupRegistry } from './store/groups.ts';
import { HeldMessages } from './store/held-messages.ts';
import { LimitNotices } from './store/limit-notices.ts';
import { MessageStore } from './store/messages.ts';
import { RouterState } from './store/router-state.ts';
import { RunFailures } from './store/run-failures.ts';
import { TaskRunStore } from './store/task-runs.ts';
import { TaskStore } from './store/tasks.ts';
import { UsageStore } from './store/usage.ts';
import { dayOf } from './usage/periods.ts';
import { type ReportDeps, usageHealth, usageRoute } from './usage/report.ts';

/** A container started ahead of need is removed after this long unused. */
const WARM_TTL_MS = 30 * 60_000;

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
  const db = openDatabase(layout.databasePath);
  const messages = new MessageStore(db);
  const chats = new ChatStore(db);
  const tasks = new TaskStore(db);
  const taskRuns = new TaskRunStore(db);
  const usage = new UsageStore(db);
  const failures = new RunFailures(db);
  const held = new HeldMessages(db);
  const notices = new LimitNotices(db);
  const report: ReportDeps = { usage, failures, config, now };
  const groups = new GroupRegistry(layout.registeredGroupsPath);
  const state = new RouterState(layout.statePath);
  const files = new GroupFiles(layout);

  if (config.webChat && groups.jidOf(MAIN_FOLDER) === undefined && groups.get('web:main') === undefined) {
    groups.register('web:main', {
      name: 'Main',
      folder: MAIN_FOLDER,
      addedAt: new Date(now()).toISOString(),
    });
    log.info({ chat: 'web:main' }, 'first start: the web chat "main" is the main group');
  }
  for (const [jid, group] of groups.entries()) {
    prepareGroupDirs(layout, group.folder);
    // A reply stored just before a crash proves its messages were answered, even if the cursor write was lost.
    state.advanceCursor(jid, messages.repliedUpTo(jid));
  }
  const interrupted = taskRuns.markInterrupted();
  if (interrupted > 0)
    log.warn({ runs: interrupted }, 'task runs cut off by the last shutdown are logged as interrupted');

  const hostId = hostIdAt(layout.hostIdPath);
  const docker = dockerClient(config.container.dockerHost);
  // Not awaited here: a round trip to the engine (through Boilerhouse's filtered socket) kept off the way to
  // the first health answer. Nothing starts a container before it is done.
  const leftoversRemoved = removeLeftovers(docker, hostId).then(
    (removed) => {
      if (removed > 0) log.warn({ containers: removed }, 'removed agent containers left by the previous run');
    },
    (error: unknown) => {
      log.error({ error }, 'the Docker engine does not answer; agent runs will fail until it does');
    },
  );

  const channels: Channel[] = [];
  let web: WebChannel | undefined;
  const statusView = async () => ({
    assistant: config.assistantName,
    channels: Object.fromEntries(
      await Promise.all(
        channels.map(async (channel) => {
          const status = channel.status();
          const qrSvg = status.qr ? await qrCodeSvg(status.qr) : undefined;
          return [
            channel.name,
            { state: status.state, detail: status.detail, pairingCode: status.pairingCode, qrSvg },
          ];
        }),
      ),
    ),
  });
  if (config.webChat) {
    const closed =
      config.webRequireToken && config.webToken === undefined
        ? "The web chat is closed: this NanoClaw must not serve a chat without a token (NANOCLAW_WEB_REQUIRE_TOKEN, on by default when hosted by Boilerhouse), and NANOCLAW_WEB_TOKEN is not set. Set NANOCLAW_WEB_TOKEN (16 or more characters) in the tenant's secrets or the .env, restart, and open /?token=<that token>."
        : undefined;
    if (closed !== undefined) log.error({ channel: 'web' }, closed);
    web = new WebChannel({
      messages,
      groups,
      files,
      assistantName: config.assistantName,
      statusView,
      closed,
    });
    channels.push(web);
  }
  let telegramWebhook: TelegramChannel | undefined;
  if (config.telegram.botToken !== undefined) {
    // Loaded only when used: every module loaded at start delays the first health check, and so a claim.
    const { TelegramChannel } = await import('./channels/telegram.ts');
    const telegram = new TelegramChannel({
      token: config.telegram.botToken,
      apiRoot: config.telegram.apiRoot,
      webhook: config.telegram.webhook,
      assistantName: config.assistantName,
      log,
    });
    channels.push(telegram);
    if (config.telegram.webhook !== undefined) telegramWebhook = telegram;
  } else log.warn({ channel: 'telegram' }, 'Telegram skipped: no TELEGRAM_BOT_TOKEN');
  if (config.whatsapp.enabled || config.whatsapp.pairingPhoneNumber !== undefined) {
    channels.push(
      new WhatsAppChannel({
        authDir: layout.whatsappAuthDir,
        assistantName: config.assistantName,
        pairingPhoneNumber: config.whatsapp.pairingPhoneNumber,
        log,
        ...(options.whatsappSocket ? { makeSocket: options.whatsappSocket } : {}),
      }),
    );
  } else
    log.warn(
      { channel: 'whatsapp' },
      'WhatsApp skipped: set WHATSAPP_ENABLED=true (or WHATSAPP_PHONE_NUMBER) to link it',
    );
  if (channels.length === 0) {
    db.close();
    throw new Error(
      'no channel is enabled: keep the web chat on (NANOCLAW_WEB_CHAT), or configure Telegram or WhatsApp',
    );
  }

  const outbound = new Outbound({
    channels,
    messages,
    state,
    assistantName: config.assistantName,
    files,
    log,
  });
  const snapshots = new Snapshots({ layout, tasks, taskRuns, chats, groups });
  const runner = new AgentRunner(docker, log);
  // MCP servers per group; those holding a credential run beside this process (mcp/).
  const mcp = hostMcp({ config, layout, db, groups, log, now });
  // The model's credential stays in this process: agents get a token per run (agent/model-proxy.ts).
  const modelProxy = new ModelProxy({
    credential: { apiKey: config.model.apiKey, authToken: config.model.authToken },
    endpoint: config.model.baseUrl,
    log,
    recordUsage: (folder, used) => usage.add(dayOf(now(), config.timezone), folder, used),
  });
  const live = new Set<AgentContainer>();
  // Containers waiting for a group's next run: refilled after each run with NANOCLAW_PREWARM, and the one
  // started ahead of this start, if any.
  const warm: WarmAgents = new WarmAgents({
    prepare: async (folder) => {
      await leftoversRemoved;
      const jid = groups.jidOf(folder);
      const group = jid === undefined ? undefined : groups.get(jid);
      if (group === undefined) return undefined;
      prepareGroupDirs(layout, folder);
      return runner.prepare(containerSpec({ config, layout, hostId, log }, group));
    },
    room: () => live.size + warm.size < config.maxConcurrentContainers,
    ttlMs: WARM_TTL_MS,
    log,
  });
  if (options.agentAhead !== undefined) warm.adopt(MAIN_FOLDER, options.agentAhead);
  let scheduler: Scheduler | undefined;
  let watcher: IpcWatcher | undefined;
  const changed = () => {
    snapshots.writeAll();
    scheduler?.kick();
  };
  const launch = async (request: LaunchRequest) => {
    await leftoversRemoved;
    const container = await launchAgent(
      {
        config,
        layout,
        runner,
        modelProxy,
        warm,
        makeRoom: async () => {
          // Runs and containers waiting ahead of need share MAX_CONCURRENT_CONTAINERS (a filtered socket may cap them).
          while (live.size + warm.size >= config.maxConcurrentContainers) {
            if (!(await warm.dropOldest())) break;
          }
        },
        hostId,
        log,
        beforeRun: (folder) => {
          snapshots.write(folder);
          watcher?.watchGroup(folder);
        },
        mcp: (folder) => mcp.forRun(folder),
      },
      request,
    );
    live.add(container);
    container.done.finally(() => {
      live.delete(container);
      if (config.prewarm) warm.refill(request.group.folder);
    });
    return container;
  };
  const queue: GroupQueue = new GroupQueue(
    {
      runMessages: (folder, attempt, signals, arm) =>
        runGroupMessages(
          {
            config,
            layout,
            log,
            messages,
            groups,
            state,
            outbound,
            launch,
            usage,
            notices,
            failures,
            now,
            commands: {
              groups,
              chats,
              state,
              messages,
              held,
              report,
              closeGroup: (name) => queue.closeGroup(name),
              enqueue: (name) => queue.enqueueMessages(name),
              now,
              mcp: mcp.commands,
              gmail: mcp.gmail,
            },
          },
          folder,
          attempt,
          signals,
          arm,
        ),
      runTask: (folder, taskId, signals) =>
        runScheduledTask(
          { config, layout, log, tasks, taskRuns, usage, groups, state, outbound, launch, now, changed },
          folder,
          taskId,
          signals,
        ),
    },
    {
      maxConcurrent: config.maxConcurrentContainers,
      retryBaseMs: config.retry.baseMs,
      maxAttempts: config.retry.maxAttempts,
      retried: (folder) => failures.countRetry(dayOf(now(), config.timezone), folder),
      log,
    },
  );
  scheduler = new Scheduler({
    tasks,
    enqueue: (folder, taskId) => queue.enqueueTask(folder, taskId),
    isQueued: (taskId) => queue.isTaskQueued(taskId),
    queuedTaskIds: () => queue.queuedTaskIds(),
    now,
    wakeFile: new WakeFile(config.wakeFile, log),
    log,
  });
  watcher = new IpcWatcher(
    layout,
    ipcFileHandler({
      layout,
      timezone: config.timezone,
      tasks,
      groups,
      deliver: (jid, text) => outbound.deliver(jid, text, null),
      deliverFile: (jid, file, caption, folder) => outbound.deliverFile(jid, file, caption, folder),
      files,
      changed,
      now,
      log,
    }),
    log,
  );

  for (const channel of channels) {
    channel.onMessage((message) =>
      receiveMessage(
        {
          chats,
          groups,
          messages,
          held,
          enqueue: (folder) => queue.enqueueMessages(folder),
          newChat: () => snapshots.write(MAIN_FOLDER),
          heldFirst: (message, group) => {
            log.info(
              { chat: message.chatJid, group: group.folder, held: message.heldId },
              'message held for approval',
            );
            const mainJid = groups.jidOf(MAIN_FOLDER);
            if (mainJid === undefined) return;
            outbound.deliver(mainJid, heldNotice(message, groups), null).catch((error: unknown) => {
              log.warn({ error }, 'could not tell the main chat of a held message (it is listed by /held)');
            });
          },
          now,
          files,
          log,
        },
        channel.name,
        message,
      ),
    );
    channel.onStatus((status) => {
      log.info({ channel: channel.name, state: status.state, detail: status.detail }, 'channel status');
      web?.broadcastStatus().catch(() => undefined);
    });
  }

  let server: Server;
  try {
    server = await startHttpServer(
      {
        health: (detailed) =>
          health(
            {
              channels,
              queueDepth: () => queue.depth(),
              runningAgents: () => queue.running(),
              lastMessageAt: () => messages.lastInboundAt(),
              accounting: () => ({ ...usageHealth(report), held_messages: held.list().length }),
            },
            detailed,
          ),
        usage: (days) => usageRoute(report, days),
        web,
        telegramWebhook,
        auth: config.webToken === undefined ? undefined : new WebAuth(config.webToken),
        hosts: webHostNames(config),
        trustedProxies: trustedProxyList(config.trustedProxies),
        log,
      },
      config.port,
      config.bindHost,
    );
  } catch (error) {
    db.close();
    throw error;
  }

  const results = await Promise.allSettled(channels.map((channel) => channel.connect()));
  for (const [index, result] of results.entries()) {
    if (result.status === 'rejected') {
      log.error({ channel: channels[index]?.name, error: result.reason }, 'channel did not connect');
    }
  }
  if (results.every((result) => result.status === 'rejected')) {
    await new Promise((resolve) => server.close(resolve));
    db.close();
    throw new Error('no channel connected; see the errors above');
  }

  snapshots.writeAll();
  watcher.start();
  scheduler.start();
  // Messages stored before a restart and not answered yet; the main group's run armed if it has none.
  for (const [, group] of groups.entries()) {
    if (config.armAtStart && group.folder === MAIN_FOLDER) queue.armMessages(MAIN_FOLDER);
    else queue.enqueueMessages(group.folder);
  }
  if (config.prewarm && !config.armAtStart && groups.jidOf(MAIN_FOLDER) !== undefined)
    warm.refill(MAIN_FOLDER);

  let stopping: Promise<void> | undefined;
  return {
    url: serverUrl(server),
    layout,
    stop: () => {
      stopping ??= (async () => {
        scheduler?.stop();
        await watcher?.stop();
        await warm.stop();
        for (const container of live) container.kill('stopped');
        await queue.stop();
        await modelProxy.close();
        await mcp.close();
        await Promise.allSettled(channels.map((channel) => channel.disconnect()));
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        db.close();
      })();
      return stopping;
    },
  };
}

/** The names the web chat is served on beyond loopback names and IP addresses: the listed ones and the bound name. */
function webHostNames(config: Config): Set<string> {
  const names = new Set(config.webHosts);
  if (isIP(config.bindHost) === 0) names.add(config.bindHost.toLowerCase());
  return names;
}

/** The QR code as SVG for the web page; its library is loaded only when a QR code is shown. */
async function qrCodeSvg(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'svg', margin: 1 });
}
