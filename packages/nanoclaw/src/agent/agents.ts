/**
 * The agent side of the host: the engine's client, the containers waiting for a group's next run
 * (WarmAgents: the one started ahead of this start, and refills after runs with NANOCLAW_PREWARM), and
 * `launch`, which gives a run its container within MAX_CONCURRENT_CONTAINERS.
 */
import type { Config } from '../config.ts';
import { hostIdAt } from '../host-id.ts';
import { type Layout, MAIN_FOLDER, prepareGroupDirs } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { HostMcp } from '../mcp/host-mcp.ts';
import type { GroupRegistry } from '../store/groups.ts';
import { dockerClient, removeLeftovers } from './docker.ts';
import { containerSpec, type LaunchRequest, launchAgent } from './launch.ts';
import type { ModelProxy } from './model-proxy.ts';
import { type AgentContainer, AgentRunner, type PreparedAgent } from './runner.ts';
import { WarmAgents } from './warm-agents.ts';

/** A container started ahead of need is removed after this long unused. */
const WARM_TTL_MS = 30 * 60_000;

export interface AgentsDeps {
  config: Config;
  layout: Layout;
  groups: GroupRegistry;
  modelProxy: ModelProxy;
  mcp: HostMcp;
  log: Logger;
  /** The main group's agent container, started before this start (agent/ahead-of-start.ts). */
  agentAhead: Promise<PreparedAgent | undefined> | undefined;
  /** Before each run: refresh the group's snapshots and make sure its IPC dirs are watched. */
  beforeRun(folder: string): void;
}

export interface Agents {
  launch(request: LaunchRequest): Promise<AgentContainer>;
  warm: WarmAgents;
  /** Removes the waiting containers and kills the running ones (their runs then end). */
  stop(): Promise<void>;
}

export function startAgents(deps: AgentsDeps): Agents {
  const { config, layout, groups, log } = deps;
  // This home's id labels its containers: the next start removes those this run leaves.
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
  const runner = new AgentRunner(docker, log);
  const live = new Set<AgentContainer>();
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
  if (deps.agentAhead !== undefined) warm.adopt(MAIN_FOLDER, deps.agentAhead);
  const launch = async (request: LaunchRequest) => {
    const container = await launchAgent(
      {
        config,
        layout,
        runner,
        modelProxy: deps.modelProxy,
        warm,
        makeRoom: async () => {
          // Runs and containers waiting ahead of need share MAX_CONCURRENT_CONTAINERS (a filtered socket may cap them).
          while (live.size + warm.size >= config.maxConcurrentContainers) {
            if (!(await warm.dropOldest())) break;
          }
        },
        hostId,
        log,
        engineReady: leftoversRemoved,
        beforeRun: deps.beforeRun,
        mcp: (folder) => deps.mcp.forRun(folder),
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
  return {
    launch,
    warm,
    stop: async () => {
      await warm.stop();
      for (const container of live) container.kill('stopped');
    },
  };
}
