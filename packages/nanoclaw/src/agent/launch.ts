/**
 * Everything a group's agent run needs: its container spec (mounts, extra ones checked against the
 * allowlist every time; only the model's environment), its directories, empty input and responses
 * dirs, fresh snapshots, and a log file in the group's logs/. A container started ahead of need for the group is
 * used when it was made to the same spec. The run's model token goes in its stdin input, never in the
 * container's spec, and is revoked when the run ends.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import type { AgentImage } from '@boilerhouse/nanoclaw-agent/input';
import { agentEnvironment, type Config } from '../config.ts';
import { clearAnswers } from '../ipc/responses.ts';
import { type Layout, MAIN_FOLDER, prepareGroupDirs } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { RunMcpAccess } from '../mcp/run-servers.ts';
import type { RegisteredGroup } from '../store/groups.ts';
import { LABELS } from './docker.ts';
import { clearInput } from './input-dir.ts';
import type { ModelProxy } from './model-proxy.ts';
import { checkMounts, loadMountAllowlist } from './mount-allowlist.ts';
import { groupMounts, type Mount, translateSources } from './mounts.ts';
import { type AgentContainer, type AgentRunner, type ContainerSpec, fingerprint } from './runner.ts';
import type { WarmAgents } from './warm-agents.ts';

export interface LaunchDeps {
  config: Config;
  layout: Layout;
  runner: AgentRunner;
  /** Where the run reaches the model, with a token of its own. */
  modelProxy: ModelProxy;
  warm: WarmAgents | undefined;
  /** Frees the container budget for a new container (containers waiting ahead of need go first). */
  makeRoom(): Promise<void>;
  hostId: string;
  log: Logger;
  /** Settles once containers may be made (the last run's leftovers removed); awaited after the input is emptied. */
  engineReady?: Promise<void>;
  /** Before the run: refresh the group's snapshots and make sure its IPC dirs are watched. */
  beforeRun(folder: string): void;
  /** The group's MCP servers, and its gateway's socket served when one runs beside the host (mcp/run-servers.ts). */
  mcp(folder: string): Promise<RunMcpAccess>;
}

export interface LaunchRequest {
  group: RegisteredGroup;
  chatJid: string;
  /** Null arms the run: its agent starts now and takes its first turn as a follow-up. */
  prompt: string | null;
  /** Images of the prompt's messages, for the model to see (files/model-images.ts). */
  images?: AgentImage[];
  sessionId: string | null;
  isScheduledTask: boolean;
  onOutput(output: ParsedOutput): void;
}

/** The container a run of this group gets now. */
export function containerSpec(
  deps: Pick<LaunchDeps, 'config' | 'layout' | 'hostId' | 'log'>,
  group: RegisteredGroup,
): ContainerSpec {
  const { config, layout } = deps;
  const folder = group.folder;
  const isMain = folder === MAIN_FOLDER;
  const requested = group.containerConfig?.additionalMounts ?? [];
  let extra: Mount[] = [];
  if (requested.length > 0) {
    const decision = checkMounts(requested, loadMountAllowlist(config.mountAllowlistPath, config.home), {
      isMain,
      nanoclawHome: config.home,
    });
    for (const refused of decision.refused) {
      deps.log.warn(
        { group: folder, hostPath: refused.hostPath, reason: refused.reason },
        'extra mount refused',
      );
    }
    extra = decision.mounts;
  }
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return {
    name: `nanoclaw-${deps.hostId}-${folder}-${runId}`,
    labels: { [LABELS.host]: deps.hostId, [LABELS.group]: folder, [LABELS.run]: runId },
    mounts: translateSources(
      groupMounts(layout, folder, isMain, extra),
      config.home,
      config.container.hostHomePath,
    ),
    env: agentEnvironment(config),
    settings: config.container,
  };
}

/**
 * Starts the run's agent. Its input dir is emptied at the call, before anything is awaited: the caller
 * hands follow-ups to the run from then on (message-run.ts), and a later emptying would lose them.
 */
export async function launchAgent(deps: LaunchDeps, request: LaunchRequest): Promise<AgentContainer> {
  const { config, layout } = deps;
  const folder = request.group.folder;
  prepareGroupDirs(layout, folder);
  clearInput(layout.ipcDir(folder));
  clearAnswers(layout, folder);
  await deps.engineReady;
  await deps.modelProxy.serveGroup(folder, layout.modelSocketPath(folder));
  const mcp = await deps.mcp(folder);
  deps.beforeRun(folder);
  const spec = containerSpec(deps, request.group);
  let prepared = await deps.warm?.take(folder, fingerprint(spec));
  if (prepared === undefined) {
    await deps.makeRoom();
    prepared = await deps.runner.prepare(spec);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const token = deps.modelProxy.issueToken(folder);
  const mcpToken = mcp.issueToken();
  const revoke = () => {
    token.revoke();
    mcpToken?.revoke();
  };
  let agent: AgentContainer;
  try {
    agent = prepared.begin(
      {
        prompt: request.prompt,
        sessionId: request.sessionId,
        group: folder,
        chatJid: request.chatJid,
        isMain: folder === MAIN_FOLDER,
        isScheduledTask: request.isScheduledTask,
        assistantName: config.assistantName,
        modelToken: token.value,
        images: request.images ?? [],
        mcpServers: mcp.servers,
        mcpToken: mcpToken?.value ?? null,
      },
      join(layout.logsDir(folder), `container-${stamp}-${prepared.name.slice(-13)}.log`),
      request.onOutput,
    );
  } catch (error) {
    revoke();
    throw error;
  }
  // `done` never rejects: the tokens end with the container, however it ends.
  agent.done.finally(revoke);
  return agent;
}
