/**
 * One run of a scheduled task: claim its due time (so it fires once), run the agent with the task's
 * prompt in its group (a fresh session, or the group's for context_mode "group"), post a non-empty
 * result into the task's chat, close the container after the first result, and log the run. When a usage
 * limit is reached the task is not run: it waits for the limit's reset (next_run moves there) with the
 * reason on the task (paused_reason), and runs then.
 */

import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import { followingRun } from '@boilerhouse/nanoclaw-schedule';
import { writeClose } from '../agent/input-dir.ts';
import type { LaunchRequest } from '../agent/launch.ts';
import type { AgentContainer } from '../agent/runner.ts';
import { type Config, modelConfigured } from '../config.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { Outbound } from '../router/outbound.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { RouterState } from '../store/router-state.ts';
import type { TaskRunStore } from '../store/task-runs.ts';
import type { TaskStore } from '../store/tasks.ts';
import type { UsageStore } from '../store/usage.ts';
import { reachedLimit } from '../usage/limits.ts';
import type { RunSignals } from './group-queue.ts';

export interface TaskRunDeps {
  config: Config;
  layout: Layout;
  log: Logger;
  tasks: TaskStore;
  taskRuns: TaskRunStore;
  usage: UsageStore;
  groups: GroupRegistry;
  state: RouterState;
  outbound: Outbound;
  launch(request: LaunchRequest): Promise<AgentContainer>;
  now(): number;
  /** The task's schedule or runs changed: refresh snapshots, re-aim the scheduler. */
  changed(): void;
}

export async function runScheduledTask(
  deps: TaskRunDeps,
  folder: string,
  taskId: string,
  signals: RunSignals,
): Promise<void> {
  const task = deps.tasks.get(taskId);
  const now = deps.now();
  if (task === undefined || task.status !== 'active' || task.nextRun === null || task.nextRun > now) return;
  const log = deps.log.child({ group: folder, task: taskId });
  const reached = reachedLimit(deps.usage, deps.config, folder, now);
  if (reached !== undefined) {
    const pausedReason = `${reached.scope === 'group' ? "the group's" : "the assistant's"} ${reached.period === 'day' ? 'daily' : 'monthly'} limit of ${reached.limit} model ${reached.measure} is reached (${reached.used} used); runs again when it resets at ${new Date(reached.resetsAt).toISOString()}`;
    deps.tasks.update(taskId, { nextRun: Math.max(task.nextRun, reached.resetsAt), pausedReason });
    log.info({ limit: reached.key, resumesAt: reached.resetsAt }, 'task paused: usage limit reached');
    deps.changed();
    return;
  }
  if (task.pausedReason !== null) deps.tasks.update(taskId, { pausedReason: null });
  let nextRun: number | null;
  try {
    nextRun = followingRun(task.scheduleType, task.scheduleValue, deps.config.timezone, task.nextRun, now);
  } catch (error) {
    log.error({ error }, 'task schedule no longer valid; pausing it');
    deps.tasks.update(taskId, { status: 'paused' });
    deps.changed();
    return;
  }
  const runId = deps.taskRuns.claim({ taskId, scheduledFor: task.nextRun, nextRun, now });
  if (runId === undefined) return; // claimed or changed by someone else meanwhile
  deps.changed();
  const group = deps.groups.get(task.chatJid);
  const started = deps.now();
  const finish = (status: 'success' | 'error', result: string | null, error: string | null) => {
    deps.taskRuns.finish(runId, { status, result, error, durationMs: deps.now() - started });
    deps.changed();
    log.info({ status, error: error ?? undefined, durationMs: deps.now() - started }, 'task run finished');
  };
  if (group === undefined || group.folder !== folder)
    return finish('error', null, `chat ${task.chatJid} is not registered to ${folder}`);
  if (!modelConfigured(deps.config.model)) return finish('error', null, 'no model is configured');

  let result: string | null = null;
  let failure: string | null = null;
  let answered = false;
  let outputs: Promise<void> = Promise.resolve();
  const onOutput = async (output: ParsedOutput) => {
    if (output.status === 'success' && task.contextMode === 'group' && output.newSessionId) {
      deps.state.setSession(folder, output.newSessionId);
    }
    if (answered) return;
    answered = true;
    writeClose(deps.layout.ipcDir(folder)); // a task is one turn
    if (output.status === 'error') {
      failure = output.error ?? 'the agent reported an error';
      return;
    }
    result = output.result?.trim() || null;
    if (result === null) return;
    try {
      await deps.outbound.deliver(task.chatJid, result, null);
    } catch (error) {
      failure = `the result could not be posted: ${(error as Error).message}`;
    }
  };
  let container: AgentContainer;
  try {
    container = await deps.launch({
      group,
      chatJid: task.chatJid,
      prompt: task.prompt,
      sessionId: task.contextMode === 'group' ? (deps.state.session(folder) ?? null) : null,
      isScheduledTask: true,
      onOutput: (output) => {
        outputs = outputs.then(() => onOutput(output));
      },
    });
  } catch (error) {
    return finish('error', null, `the agent container did not start: ${(error as Error).message}`);
  }
  signals.register({ offerMessages: () => false, close: () => writeClose(deps.layout.ipcDir(folder)) });
  container.armTimeout(group.containerConfig?.timeoutMs ?? deps.config.container.timeoutMs);
  const end = await container.done;
  await outputs;
  if (failure !== null) return finish('error', result, failure);
  if (!answered) {
    return finish(
      'error',
      null,
      end.stopReason
        ? `the agent was stopped (${end.stopReason})`
        : `the agent exited with code ${end.exitCode} without a result`,
    );
  }
  finish('success', result, null);
}
