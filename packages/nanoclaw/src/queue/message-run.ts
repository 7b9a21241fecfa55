/**
 * One run for a group's messages: host commands first, then, if a message triggers the assistant, an
 * agent container with every message since the last reply. Messages arriving while it runs go to it as
 * follow-ups. Each result answers the oldest turn not yet answered; the chat's cursor moves to that
 * turn's last message only once the reply is sent (or there is nothing to send), so a crash anywhere
 * leaves unanswered messages to the next run and answered ones behind the cursor. A usage limit reached
 * starts no agent (the chat is told once per limit and period). After the last attempt
 * (NANOCLAW_MAX_ATTEMPTS) the messages are given up on: recorded as failed, the cursor moved past them.
 * An armed run (`arm`, with nothing to answer yet) starts the group's agent before its messages come: they
 * go to it as follow-ups from the first, and one that never gets a message ends quietly when idle.
 */
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import { writeClose, writeFollowUp } from '../agent/input-dir.ts';
import type { LaunchRequest } from '../agent/launch.ts';
import { type AgentContainer, AgentImageMissingError, type RunEnd } from '../agent/runner.ts';
import { type Config, modelConfigured } from '../config.ts';
import { modelImages } from '../files/model-images.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import { type CommandDeps, runCommand } from '../router/command-handler.ts';
import { parseCommand } from '../router/commands.ts';
import type { Outbound } from '../router/outbound.ts';
import { formatPrompt } from '../router/prompt.ts';
import { isTriggered, triggerOf } from '../router/trigger.ts';
import type { GroupRegistry, RegisteredGroup } from '../store/groups.ts';
import type { LimitNotices } from '../store/limit-notices.ts';
import type { MessageStore, StoredMessage } from '../store/messages.ts';
import type { RouterState } from '../store/router-state.ts';
import type { RunFailures } from '../store/run-failures.ts';
import type { UsageStore } from '../store/usage.ts';
import { limitMessage, reachedLimit } from '../usage/limits.ts';
import type { ActiveRun, MessagesOutcome, RunSignals } from './group-queue.ts';
import { noModelReply } from './no-model-reply.ts';

export interface MessageRunDeps {
  config: Config;
  layout: Layout;
  log: Logger;
  messages: MessageStore;
  groups: GroupRegistry;
  state: RouterState;
  outbound: Outbound;
  commands: CommandDeps;
  usage: UsageStore;
  notices: LimitNotices;
  failures: RunFailures;
  launch(request: LaunchRequest): Promise<AgentContainer>;
  now(): number;
}

/** Grace after IDLE_TIMEOUT before the host kills an agent that did not exit by itself. */
const IDLE_GRACE_MS = 30_000;

export async function runGroupMessages(
  deps: MessageRunDeps,
  folder: string,
  attempt: number,
  signals: RunSignals,
  arm = false,
): Promise<MessagesOutcome> {
  const jid = deps.groups.jidOf(folder);
  const group = jid === undefined ? undefined : deps.groups.get(jid);
  if (jid === undefined || group === undefined) return 'done';
  const trigger = triggerOf(group, deps.config.assistantName);
  const pending = deps.messages.inboundSince(jid, deps.state.cursor(jid));
  try {
    for (const [index, message] of pending.entries()) {
      const command = parseCommand(message.text, trigger);
      if (command === undefined) continue;
      await deps.outbound.deliver(jid, await runCommand(command, group, deps.commands), message.receivedAt);
      // Whatever came after the command is looked at in a run of its own.
      return index + 1 < pending.length && deps.groups.get(jid) !== undefined ? 'unfinished' : 'done';
    }
    if (!isTriggered(texts(pending), group, deps.config.assistantName)) {
      const armable =
        arm &&
        modelConfigured(deps.config.model) &&
        reachedLimit(deps.usage, deps.config, folder, deps.now()) === undefined;
      return armable ? new MessageRun(deps, group, jid, attempt, signals).arm() : 'done';
    }
    const last = pending.at(-1) as StoredMessage;
    if (!modelConfigured(deps.config.model)) {
      await deps.outbound.deliver(jid, noModelReply(deps.config), last.receivedAt);
      return 'done';
    }
    const reached = reachedLimit(deps.usage, deps.config, folder, deps.now());
    if (reached !== undefined) {
      deps.log.info({ group: folder, limit: reached.key }, 'usage limit reached: no agent run');
      if (deps.notices.told(jid, reached.key)) deps.state.advanceCursor(jid, last.receivedAt);
      else {
        await deps.outbound.deliver(jid, limitMessage(reached, deps.config.timezone), last.receivedAt);
        deps.notices.note(jid, reached.key);
      }
      return 'done';
    }
  } catch (error) {
    deps.log.warn({ group: folder, error }, 'could not answer');
    const upTo = pending.at(-1)?.receivedAt ?? 0;
    return lastAttempt(deps, attempt)
      ? giveUp(deps, jid, folder, attempt, `the answer could not be sent: ${(error as Error).message}`, upTo)
      : 'failed';
  }
  return new MessageRun(deps, group, jid, attempt, signals).run(pending);
}

function lastAttempt(deps: MessageRunDeps, attempt: number): boolean {
  return attempt + 1 >= deps.config.retry.maxAttempts;
}

/**
 * No more attempts: the messages up to `upTo` are recorded as failed and left behind the cursor, so that
 * nothing retries them again (a new message in the chat starts afresh).
 */
function giveUp(
  deps: MessageRunDeps,
  jid: string,
  folder: string,
  attempt: number,
  reason: string,
  upTo: number,
): MessagesOutcome {
  const messages = deps.messages
    .inboundSince(jid, deps.state.cursor(jid))
    .filter((message) => message.receivedAt <= upTo).length;
  deps.log.error(
    { group: folder, chat: jid, attempts: attempt + 1, messages, reason },
    'giving up on these messages: recorded as failed, not retried',
  );
  deps.failures.recordFailed({
    chatJid: jid,
    group: folder,
    messages,
    upTo,
    attempts: attempt + 1,
    reason,
    failedAt: deps.now(),
  });
  deps.state.advanceCursor(jid, upTo);
  return 'done';
}

function texts(messages: StoredMessage[]): string[] {
  return messages.map((message) => message.text);
}

class MessageRun implements ActiveRun {
  readonly #deps: MessageRunDeps;
  readonly #group: RegisteredGroup;
  readonly #jid: string;
  readonly #attempt: number;
  readonly #signals: RunSignals;
  readonly #log: Logger;
  /** Per turn given to the agent and not yet answered: the received_at of its last message. */
  readonly #turns: number[] = [];
  /** Turns given to the agent so far: none, for an armed run no message has reached yet. */
  #given = 0;
  #deliveredUpTo = 0;
  #container: AgentContainer | undefined;
  #closing = false;
  #failure: string | undefined;
  #outputs: Promise<void> = Promise.resolve();

  constructor(
    deps: MessageRunDeps,
    group: RegisteredGroup,
    jid: string,
    attempt: number,
    signals: RunSignals,
  ) {
    this.#deps = deps;
    this.#group = group;
    this.#jid = jid;
    this.#attempt = attempt;
    this.#signals = signals;
    this.#log = deps.log.child({ group: group.folder });
  }

  get #turnTimeoutMs(): number {
    return this.#group.containerConfig?.timeoutMs ?? this.#deps.config.container.timeoutMs;
  }

  async run(pending: StoredMessage[]): Promise<MessagesOutcome> {
    const upTo = (pending.at(-1) as StoredMessage).receivedAt;
    this.#turns.push(upTo);
    this.#given++;
    this.#deliveredUpTo = upTo;
    return this.#launch(formatPrompt(pending, this.#deps.config.timezone), modelImages(pending));
  }

  /** With no prompt: the agent starts now and takes its first turn from the messages offered to it. */
  arm(): Promise<MessagesOutcome> {
    this.#deliveredUpTo = this.#deps.state.cursor(this.#jid);
    this.#log.info({ chat: this.#jid }, 'arming the agent for the messages to come');
    return this.#launch(null, []);
  }

  async #launch(prompt: string | null, images: ReturnType<typeof modelImages>): Promise<MessagesOutcome> {
    const deps = this.#deps;
    const armed = prompt === null;
    // The launch empties the input dir before its first await; from then on follow-ups may be written.
    const launching = deps.launch({
      group: this.#group,
      chatJid: this.#jid,
      prompt,
      images,
      sessionId: deps.state.session(this.#group.folder) ?? null,
      isScheduledTask: false,
      onOutput: (output) => {
        this.#outputs = this.#outputs.then(() => this.#onOutput(output));
      },
    });
    this.#signals.register(this);
    if (!armed) deps.outbound.setTyping(this.#jid, true);
    let container: AgentContainer;
    try {
      container = await launching;
      this.#container = container;
    } catch (error) {
      deps.outbound.setTyping(this.#jid, false);
      if (this.#given === 0) {
        // Nothing was asked of it: the messages to come start an agent of their own.
        this.#log.warn({ error }, 'the armed agent did not start');
        return 'done';
      }
      if (error instanceof AgentImageMissingError) {
        this.#log.error({ error }, 'agent image missing');
        return this.#giveUp(error.message, true);
      }
      this.#log.error({ error }, 'agent container did not start');
      return this.#giveUp(`the agent container did not start: ${(error as Error).message}`, false);
    }
    if (this.#closing) writeClose(deps.layout.ipcDir(this.#group.folder));
    if (this.#given === 0) {
      container.armTimeout(deps.config.container.idleTimeoutMs + IDLE_GRACE_MS);
      this.#signals.idle();
    } else container.armTimeout(this.#turnTimeoutMs);
    const end = await container.done;
    await this.#outputs;
    deps.outbound.setTyping(this.#jid, false);
    if (this.#failure === undefined && this.#turns.length === 0) return 'done';
    if (this.#given === 0) {
      this.#log.warn({ error: this.#failure ?? describeEnd(end) }, 'the armed agent ended before a message');
      return 'done';
    }
    if (this.#failure === undefined && end.exitCode === 0 && end.stopReason === undefined) {
      // It finished before taking the last follow-up; those messages go to a new run.
      return 'unfinished';
    }
    // Stopped by the host (shutting down, or unable to ask it to close): the messages wait for next time.
    if (end.stopReason === 'stopped') return 'failed';
    return this.#giveUp(this.#failure ?? describeEnd(end), false);
  }

  offerMessages(): boolean {
    if (this.#closing || this.#failure !== undefined) return false;
    const deps = this.#deps;
    const fresh = deps.messages.inboundSince(this.#jid, this.#deliveredUpTo);
    if (fresh.length === 0) return true;
    const trigger = triggerOf(this.#group, deps.config.assistantName);
    if (fresh.some((message) => parseCommand(message.text, trigger) !== undefined)) {
      // Commands are the host's: let this run finish and handle them after it.
      this.close();
      return false;
    }
    // Not triggered: they wait as context for the next message that is.
    if (!isTriggered(texts(fresh), this.#group, deps.config.assistantName)) return true;
    if (reachedLimit(deps.usage, deps.config, this.#group.folder, deps.now()) !== undefined) {
      // A limit reached during this run: a run of their own tells the chat, and starts no agent.
      this.close();
      return false;
    }
    try {
      writeFollowUp(
        deps.layout.ipcDir(this.#group.folder),
        formatPrompt(fresh, deps.config.timezone),
        modelImages(fresh),
      );
    } catch (error) {
      this.#log.error({ error }, 'could not hand a follow-up to the agent');
      this.close();
      return false;
    }
    const upTo = (fresh.at(-1) as StoredMessage).receivedAt;
    this.#turns.push(upTo);
    this.#given++;
    this.#deliveredUpTo = upTo;
    this.#signals.busy();
    deps.outbound.setTyping(this.#jid, true);
    this.#container?.armTimeout(this.#turnTimeoutMs);
    return true;
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#container === undefined) return; // written once it has started
    try {
      writeClose(this.#deps.layout.ipcDir(this.#group.folder));
    } catch (error) {
      this.#log.error({ error }, 'could not ask the agent to close; stopping it');
      this.#container.kill('stopped');
    }
  }

  async #onOutput(output: ParsedOutput): Promise<void> {
    const deps = this.#deps;
    if (output.newSessionId) deps.state.setSession(this.#group.folder, output.newSessionId);
    if (output.status === 'error') {
      this.#failure = output.error ?? 'the agent reported an error';
      this.#log.warn({ error: this.#failure }, 'agent turn failed');
      this.close();
      return;
    }
    const upTo = this.#turns.shift();
    const text = output.result?.trim() ?? '';
    try {
      if (text !== '') await deps.outbound.deliver(this.#jid, text, upTo ?? null);
      else if (upTo !== undefined) deps.state.advanceCursor(this.#jid, upTo);
    } catch (error) {
      if (upTo !== undefined) this.#turns.unshift(upTo);
      this.#failure = `the reply could not be sent: ${(error as Error).message}`;
      this.#log.warn({ error }, 'reply not sent');
      this.close();
      return;
    }
    if (this.#turns.length === 0) {
      deps.outbound.setTyping(this.#jid, false);
      this.#container?.armTimeout(deps.config.container.idleTimeoutMs + IDLE_GRACE_MS);
      this.#signals.idle();
    }
  }

  /**
   * Retries while attempts remain; after the last one (or when retrying cannot help) tells the chat and
   * gives up. An apology that cannot be sent either (the channel is down) is retried like the run, and
   * after the last attempt the messages are given up on all the same.
   */
  async #giveUp(reason: string, final: boolean): Promise<MessagesOutcome> {
    const deps = this.#deps;
    const last = lastAttempt(deps, this.#attempt);
    if (!final && !last) return 'failed';
    try {
      await deps.outbound.deliver(
        this.#jid,
        `Sorry, I could not answer that: ${reason}. Send it again to retry.`,
        this.#deliveredUpTo,
      );
    } catch (error) {
      this.#log.warn({ reason, error }, 'could not tell the chat that its messages went unanswered');
      if (!last) return 'failed';
      reason = `${reason}; the chat could not be told: ${(error as Error).message}`;
    }
    return giveUp(deps, this.#jid, this.#group.folder, this.#attempt, reason, this.#deliveredUpTo);
  }
}

function describeEnd(end: RunEnd): string {
  switch (end.stopReason) {
    case 'timeout':
      return 'the agent took too long and was stopped';
    case 'output_limit':
      return 'the agent wrote more output than allowed and was stopped';
    case 'stopped':
      return 'the agent was stopped';
    default:
      return `the agent exited with code ${end.exitCode ?? 'unknown'} without answering`;
  }
}
