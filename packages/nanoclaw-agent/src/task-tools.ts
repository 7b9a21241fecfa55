/**
 * The six task tools. Requests go to the host as files in `/workspace/ipc/tasks/`; reads come from the
 * `current_tasks.json` the host keeps. The host decides what this group may do, by the directory.
 */
import { join } from 'node:path';
import { tool } from '@anthropic-ai/claude-agent-sdk';
import {
  MIN_INTERVAL_MS,
  SCHEDULE_TYPES,
  type ScheduleType,
  scheduleProblem,
} from '@boilerhouse/nanoclaw-schedule';
import { z } from 'zod';
import { askHost } from './host-request.ts';
import type { RequestFile } from './ipc-requests.ts';
import { CURRENT_TASKS_FILE } from './ipc-snapshots.ts';
import { formatTaskDetails, formatTaskList, readVisibleTasks } from './task-list.ts';
import { done, refused, type ToolContext } from './tool-context.ts';

/**
 * The schedule checked as the host will check it (the same module), so a typo is heard at once. The
 * container's TZ is the host's, which Intl reads.
 */
function scheduleError(type: ScheduleType, value: string): string | null {
  return scheduleProblem(type, value, Intl.DateTimeFormat().resolvedOptions().timeZone);
}

const SCHEDULE_TYPE = z
  .enum(SCHEDULE_TYPES)
  .describe('cron: recurring at set times; interval: every N milliseconds; once: a single run at a set time');
const SCHEDULE_VALUE = z
  .string()
  .describe(
    `cron: an expression in the local time zone, e.g. "0 9 * * 1" (Mondays 9:00); interval: milliseconds, at least ${MIN_INTERVAL_MS}, e.g. "3600000"; once: a local ISO time, e.g. "2026-02-01T15:30:00"`,
  );
const TASK_ID = z.string().min(1).describe('The task id, as list_tasks shows it');

export function taskTools(context: ToolContext) {
  const tasksFile = join(context.ipcDir, CURRENT_TASKS_FILE);
  const request = (data: RequestFile, accepted: (taskId: string | undefined) => string) =>
    askHost(context, data, accepted);
  const simple = (type: 'pause_task' | 'resume_task' | 'cancel_task', done: string, description: string) =>
    tool(type, description, { task_id: TASK_ID }, (args) =>
      request({ type, taskId: args.task_id }, () => `Task ${args.task_id} ${done}.`),
    );

  return [
    tool(
      'schedule_task',
      `Schedule a task: at the set time, an agent runs the prompt in this group (with all tools) and its reply is posted to the chat. Use send_message inside the prompt's instructions for messages mid-run.${
        context.isMain ? ' As the main group you may schedule for another chat with target_jid.' : ''
      }`,
      {
        prompt: z.string().min(1).describe('What the agent should do when the task runs; self-contained'),
        schedule_type: SCHEDULE_TYPE,
        schedule_value: SCHEDULE_VALUE,
        context_mode: z
          .enum(['isolated', 'group'])
          .optional()
          .describe("isolated (default): a fresh session; group: continue this chat's conversation"),
        target_jid: z
          .string()
          .optional()
          .describe('Main group only: the chat the task belongs to and posts into'),
      },
      async (args) => {
        const invalid = scheduleError(args.schedule_type, args.schedule_value);
        if (invalid) return refused(invalid);
        const data: RequestFile = {
          type: 'schedule_task',
          prompt: args.prompt,
          schedule_type: args.schedule_type,
          schedule_value: args.schedule_value,
        };
        if (args.context_mode) data.context_mode = args.context_mode;
        if (args.target_jid) data.targetJid = args.target_jid;
        return request(
          data,
          (taskId) =>
            `Scheduled${taskId ? ` task ${taskId}` : ''}: ${args.schedule_type} ${args.schedule_value}.`,
        );
      },
    ),
    tool(
      'list_tasks',
      context.isMain ? 'List the scheduled tasks of every group.' : "List this group's scheduled tasks.",
      {},
      async () => done(formatTaskList(await readVisibleTasks(tasksFile))),
    ),
    tool(
      'get_task',
      'Show one scheduled task: its schedule, status, next and last run, and its recent runs.',
      { task_id: TASK_ID },
      async (args) => {
        const task = (await readVisibleTasks(tasksFile)).find((candidate) => candidate.id === args.task_id);
        return task
          ? done(formatTaskDetails(task))
          : refused(`No task ${args.task_id}; list_tasks shows the ids.`);
      },
    ),
    tool(
      'update_task',
      "Change a task's prompt and/or schedule (give schedule_type and schedule_value together).",
      {
        task_id: TASK_ID,
        prompt: z.string().min(1).optional().describe('The new prompt'),
        schedule_type: SCHEDULE_TYPE.optional(),
        schedule_value: SCHEDULE_VALUE.optional(),
      },
      async (args) => {
        if ((args.schedule_type === undefined) !== (args.schedule_value === undefined))
          return refused('Give schedule_type and schedule_value together, or neither.');
        if (args.prompt === undefined && args.schedule_type === undefined)
          return refused('Nothing to change: give a prompt, or schedule_type with schedule_value.');
        const data: RequestFile = { type: 'update_task', taskId: args.task_id };
        if (args.prompt !== undefined) data.prompt = args.prompt;
        if (args.schedule_type !== undefined && args.schedule_value !== undefined) {
          const invalid = scheduleError(args.schedule_type, args.schedule_value);
          if (invalid) return refused(invalid);
          data.schedule_type = args.schedule_type;
          data.schedule_value = args.schedule_value;
        }
        return request(data, () => `Task ${args.task_id} updated.`);
      },
    ),
    simple('pause_task', 'paused', 'Pause a scheduled task; it does not run until resumed.'),
    simple('resume_task', 'resumed', 'Resume a paused task.'),
    simple('cancel_task', 'cancelled', 'Cancel a scheduled task for good.'),
  ];
}
