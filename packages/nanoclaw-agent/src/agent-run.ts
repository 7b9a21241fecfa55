/**
 * One agent run: the Agent SDK's query() over the run's turns (the first prompt, then follow-ups), with
 * the group's session resumed, the CLAUDE.md hierarchy loaded and the nanoclaw MCP tools. Each finished
 * turn becomes one output frame.
 */
import { type Options, type SDKMessage, type SDKUserMessage, startup } from '@anthropic-ai/claude-agent-sdk';
import type { AgentOutput } from './frames.ts';
import type { AgentInput } from './input.ts';
import { NANOCLAW_SERVER_NAME } from './mcp-config.ts';
import type { RunMcp } from './mcp-servers.ts';
import { nanoclawMcpServer } from './mcp-tools.ts';
import type { MessageQueue } from './message-queue.ts';
import { unrecoverableModelError } from './model-errors.ts';
import { isStaleSessionError, ReplayLog } from './session.ts';
import { systemPromptAppend } from './system-prompt.ts';
import { type Turn, userMessage } from './turn.ts';
import type { WorkspacePaths } from './workspace.ts';

/**
 * How long a tool waits for the host's answer to a request. The host handles a request as soon as its
 * file appears; longer than this means it is busy retrying (a channel down), which the tool then says.
 */
const HOST_REPLY_TIMEOUT_MS = 10_000;

/**
 * Built-in tools that need a person at a terminal or a process that outlives the run; scheduling goes
 * through the nanoclaw task tools instead.
 */
const UNATTENDED_DISALLOWED = [
  'AskUserQuestion',
  'CronCreate',
  'CronDelete',
  'CronList',
  'ScheduleWakeup',
  'EnterPlanMode',
  'ExitPlanMode',
  'EnterWorktree',
  'ExitWorktree',
  'PushNotification',
  'RemoteTrigger',
];

export interface RunDeps {
  input: AgentInput;
  paths: WorkspacePaths;
  /** The run's turns after the first prompt; ended on `_close` or idle. */
  queue: MessageQueue<Turn>;
  emit(output: AgentOutput): Promise<void>;
  /** Called after a result when no turn is pending: the idle clock may start. */
  onIdle(): void;
  log(message: string): void;
  /** The environment the CLI runs with. */
  env: NodeJS.ProcessEnv;
  /** The run's MCP servers besides nanoclaw (mcp-servers.ts). */
  mcp: Pick<RunMcp, 'servers' | 'allowedTools' | 'prompt'>;
}

export interface RunOutcome {
  /** 0 when every turn was answered, 1 when the run ended on an error (reported in a frame). */
  exitCode: 0 | 1;
  sessionId: string | null;
}

type Attempt = { kind: 'done'; outcome: RunOutcome } | { kind: 'stale' };

async function* userTurns(turns: AsyncIterable<Turn>, groupDir: string): AsyncGenerator<SDKUserMessage> {
  for await (const turn of turns) yield await userMessage(turn, groupDir);
}

function queryOptions(deps: RunDeps, resume: string | null): Options {
  const { input, paths } = deps;
  return {
    cwd: paths.group,
    // The global memory directory: its CLAUDE.md loads as project instructions with the flag below.
    additionalDirectories: [paths.global],
    // 'project' is what loads CLAUDE.md files; user settings stay out of a host-managed session dir.
    settingSources: ['project'],
    systemPrompt: {
      type: 'preset',
      preset: 'claude_code',
      append: [systemPromptAppend(input, paths), ...deps.mcp.prompt].join('\n'),
    },
    mcpServers: {
      [NANOCLAW_SERVER_NAME]: nanoclawMcpServer({
        ipcDir: paths.ipc,
        chatJid: input.chatJid,
        isMain: input.isMain,
        groupDir: paths.group,
        replyTimeoutMs: HOST_REPLY_TIMEOUT_MS,
      }),
      ...deps.mcp.servers,
    },
    allowedTools: deps.mcp.allowedTools,
    // Unattended inside its own container, as the unprivileged `node` user: nobody is there to approve.
    permissionMode: 'bypassPermissions',
    allowDangerouslySkipPermissions: true,
    disallowedTools: UNATTENDED_DISALLOWED,
    resume: resume ?? undefined,
    env: {
      ...deps.env,
      CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_AGENT_SDK_CLIENT_APP: 'nanoclaw-agent/0.1.0',
    },
    stderr: (data) => deps.log(data.trimEnd()),
  };
}

/** The text a failed result carries for a person. */
function resultError(message: Extract<SDKMessage, { type: 'result' }>): string {
  if (message.subtype === 'success') return message.result || 'the agent stopped with an error';
  const errors = message.errors?.filter((text) => text.trim() !== '') ?? [];
  if (errors.length > 0) return errors.join('; ');
  return message.subtype === 'error_max_turns'
    ? 'the agent reached its turn limit'
    : `the agent failed (${message.subtype})`;
}

async function attempt(
  deps: RunDeps,
  resume: string | null,
  replay: ReplayLog<Turn>,
  previous: Turn[],
): Promise<Attempt> {
  let sessionId: string | null = resume;
  let answered = false;
  let failed = false;
  // The CLI is started and initialised before the first turn is read: an armed run (no first turn yet)
  // then answers its first message as quickly as a follow-up. query() would start it only at that turn.
  const began = performance.now();
  let warm: Awaited<ReturnType<typeof startup>>;
  try {
    warm = await startup({ options: queryOptions(deps, resume) });
  } catch (error) {
    const text = (error as Error).message;
    if (resume && isStaleSessionError(text, resume)) return { kind: 'stale' };
    await deps.emit({ status: 'error', result: null, error: text, newSessionId: sessionId });
    return { kind: 'done', outcome: { exitCode: 1, sessionId } };
  }
  deps.log(
    `SDK up in ${Math.round(performance.now() - began)} ms (node up ${Math.round(performance.now())} ms)`,
  );
  const turns = warm.query(userTurns(replay.feed(previous, deps.queue), deps.paths.group));
  try {
    for await (const message of turns) {
      if (message.type === 'system' && message.subtype === 'init' && message.session_id !== sessionId) {
        sessionId = message.session_id;
        deps.log(`session ${sessionId} started (node up ${Math.round(performance.now())} ms)`);
      }
      if (message.type === 'system' && message.subtype === 'api_retry') {
        deps.log(
          `model request failed (${message.error_status ?? 'no response'} ${message.error}); retry ${message.attempt} of ${message.max_retries} in ${message.retry_delay_ms} ms`,
        );
        const error = unrecoverableModelError(message);
        if (error) {
          failed = true;
          await deps.emit({ status: 'error', result: null, error, newSessionId: sessionId });
          break;
        }
      }
      if (message.type !== 'result') continue;
      sessionId = message.session_id || sessionId;
      if (message.subtype === 'success' && !message.is_error) {
        const text = message.result.trim();
        await deps.emit({
          status: 'success',
          result: text === '' ? null : text,
          newSessionId: sessionId ?? '',
        });
      } else {
        const error = resultError(message);
        if (resume && !answered && isStaleSessionError(error, resume)) return { kind: 'stale' };
        failed = true;
        await deps.emit({ status: 'error', result: null, error, newSessionId: sessionId });
      }
      answered = true;
      if (!message.queued_turn_count) deps.onIdle();
    }
  } catch (error) {
    const text = (error as Error).message;
    if (resume && !answered && isStaleSessionError(text, resume)) return { kind: 'stale' };
    // The SDK throws after an error result it has already handed us; report only what is new.
    if (!failed) await deps.emit({ status: 'error', result: null, error: text, newSessionId: sessionId });
    return { kind: 'done', outcome: { exitCode: 1, sessionId } };
  } finally {
    turns.close();
  }
  return { kind: 'done', outcome: { exitCode: failed ? 1 : 0, sessionId } };
}

/**
 * Runs every turn of the run (an armed run has no first turn: its first comes from the queue); a stale
 * session id is dropped and the same turns go to a fresh session.
 */
export async function runAgent(deps: RunDeps, firstTurn: Turn | undefined): Promise<RunOutcome> {
  const first = new ReplayLog<Turn>();
  const initial = firstTurn === undefined ? [] : [firstTurn];
  const resumed = await attempt(deps, deps.input.sessionId, first, initial);
  if (resumed.kind === 'done') return resumed.outcome;
  deps.log(`session ${deps.input.sessionId} is not known to the SDK (stale); starting a new session`);
  // Found stale as the SDK started, nothing was read yet: the first turn is still to be given.
  const replayed = first.consumed.length > 0 ? first.consumed : initial;
  const fresh = await attempt(deps, null, new ReplayLog<Turn>(), replayed);
  if (fresh.kind === 'stale') throw new Error('a new session was reported stale');
  return fresh.outcome;
}
