/**
 * Requests an agent writes into its IPC dir (AGENT-PROTOCOL.md, "Requests"), checked field by field.
 * Extra fields are ignored; in particular nothing in a file says who sent it (the directory does).
 */
import { SCHEDULE_TYPES, type ScheduleType } from '@boilerhouse/nanoclaw-schedule';
import type { ContextMode } from '../store/tasks.ts';

export type IpcRequest =
  | { type: 'message'; chatJid: string; text: string }
  | { type: 'file'; chatJid: string; path: string; caption: string | undefined }
  | {
      type: 'schedule_task';
      prompt: string;
      scheduleType: ScheduleType;
      scheduleValue: string;
      contextMode: ContextMode;
      targetJid: string | undefined;
    }
  | {
      type: 'update_task';
      taskId: string;
      prompt: string | undefined;
      schedule: { type: ScheduleType; value: string } | undefined;
    }
  | { type: 'pause_task' | 'resume_task' | 'cancel_task'; taskId: string }
  | { type: 'register_group'; jid: string; name: string; folder: string; trigger: string | undefined };

export type IpcKind = 'messages' | 'tasks';

const MAX_TEXT = 64 * 1024;

/** The request in a file's text, or what is wrong with it. `kind` is the subdirectory it came from. */
export function parseRequest(text: string, kind: IpcKind): IpcRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const body = value as Record<string, unknown>;
  const problems: string[] = [];
  const string = (field: string, optional = false): string | undefined => {
    const found = body[field];
    if (found === undefined && optional) return undefined;
    if (typeof found !== 'string' || found.trim() === '' || found.length > MAX_TEXT) {
      problems.push(`${field} must be a non-empty string${optional ? ' when given' : ''}`);
      return undefined;
    }
    return found;
  };
  const type = body.type;
  const allowed = kind === 'messages' ? ['message', 'file'] : [...TASK_TYPES];
  if (typeof type !== 'string' || !allowed.includes(type)) {
    return `type must be one of ${allowed.join(', ')} in ${kind}/, got ${JSON.stringify(type)}`;
  }
  const request = build(type, body, string, problems);
  return problems.length > 0 ? problems.join('; ') : (request as IpcRequest);
}

const TASK_TYPES = [
  'schedule_task',
  'update_task',
  'pause_task',
  'resume_task',
  'cancel_task',
  'register_group',
];

function build(
  type: string,
  body: Record<string, unknown>,
  string: (field: string, optional?: boolean) => string | undefined,
  problems: string[],
): IpcRequest | undefined {
  const scheduleValue = (field: string): string | undefined => {
    const found = body[field];
    if (typeof found === 'number' && Number.isFinite(found)) return String(found);
    return string(field, false);
  };
  const scheduleType = (optional: boolean): ScheduleType | undefined => {
    const found = body.schedule_type;
    if (found === undefined && optional) return undefined;
    if (typeof found !== 'string' || !(SCHEDULE_TYPES as readonly string[]).includes(found)) {
      problems.push('schedule_type must be cron, interval or once');
      return undefined;
    }
    return found as ScheduleType;
  };
  switch (type) {
    case 'message':
      return { type, chatJid: string('chatJid') ?? '', text: string('text') ?? '' };
    case 'file':
      return {
        type,
        chatJid: string('chatJid') ?? '',
        path: string('path') ?? '',
        caption: string('caption', true),
      };
    case 'schedule_task': {
      const contextMode = body.context_mode ?? 'isolated';
      if (contextMode !== 'isolated' && contextMode !== 'group')
        problems.push('context_mode must be isolated or group');
      return {
        type,
        prompt: string('prompt') ?? '',
        scheduleType: scheduleType(false) ?? 'once',
        scheduleValue: scheduleValue('schedule_value') ?? '',
        contextMode: contextMode as ContextMode,
        targetJid: string('targetJid', true),
      };
    }
    case 'update_task': {
      const kind = scheduleType(true);
      const hasValue = body.schedule_value !== undefined;
      if ((kind === undefined) !== !hasValue) problems.push('schedule_type and schedule_value go together');
      return {
        type,
        taskId: string('taskId') ?? '',
        prompt: string('prompt', true),
        schedule:
          kind !== undefined && hasValue
            ? { type: kind, value: scheduleValue('schedule_value') ?? '' }
            : undefined,
      };
    }
    case 'pause_task':
    case 'resume_task':
    case 'cancel_task':
      return { type, taskId: string('taskId') ?? '' };
    case 'register_group':
      return {
        type,
        jid: string('jid') ?? '',
        name: string('name') ?? '',
        folder: string('folder') ?? '',
        trigger: string('trigger', true),
      };
    default:
      return undefined;
  }
}
