/**
 * The host's queue: each group's message runs and scheduled tasks, one at a time per group and at most
 * MAX_CONCURRENT_CONTAINERS in all, with what each kind of run needs (queue/message-run.ts, task-run.ts).
 */
import type { LaunchRequest } from '../agent/launch.ts';
import type { AgentContainer } from '../agent/runner.ts';
import type { Config } from '../config.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { HostMcp } from '../mcp/host-mcp.ts';
import type { Outbound } from '../router/outbound.ts';
import type { HostStores } from '../store/host-stores.ts';
import { dayOf } from '../usage/periods.ts';
import type { ReportDeps } from '../usage/report.ts';
import { GroupQueue } from './group-queue.ts';
import { runGroupMessages } from './message-run.ts';
import { runScheduledTask } from './task-run.ts';

export interface HostQueueDeps {
  config: Config;
  layout: Layout;
  log: Logger;
  stores: HostStores;
  outbound: Outbound;
  mcp: HostMcp;
  report: ReportDeps;
  launch(request: LaunchRequest): Promise<AgentContainer>;
  /** A task's schedule or runs changed: refresh snapshots, re-aim the scheduler. */
  changed(): void;
  now(): number;
}

export function hostQueue(deps: HostQueueDeps): GroupQueue {
  const { config, layout, log, outbound, launch, now } = deps;
  const { messages, groups, state, chats, held, usage, notices, failures, tasks, taskRuns } = deps.stores;
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
              report: deps.report,
              closeGroup: (name) => queue.closeGroup(name),
              enqueue: (name) => queue.enqueueMessages(name),
              now,
              mcp: deps.mcp.commands,
              gmail: deps.mcp.gmail,
            },
          },
          folder,
          attempt,
          signals,
          arm,
        ),
      runTask: (folder, taskId, signals) =>
        runScheduledTask(
          {
            config,
            layout,
            log,
            tasks,
            taskRuns,
            usage,
            groups,
            state,
            outbound,
            launch,
            now,
            changed: deps.changed,
          },
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
  return queue;
}
