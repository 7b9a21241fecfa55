/**
 * The requests an agent makes of its host (AGENT-PROTOCOL.md, "Requests"), one JSON file each in
 * `/workspace/ipc/messages/` or `tasks/`. The one definition of each request: the folder it goes in
 * (REQUEST_TYPES), the fields its file holds (RequestFile: what the agent's tools write) and how a file is
 * checked and read (parseRequest: what the host does with each). Extra fields are ignored; in particular
 * nothing in a file says who sent it (the directory does). Pure: the host loads it too.
 */
import { SCHEDULE_TYPES, type ScheduleType } from '@boilerhouse/nanoclaw-schedule';

/** The request folders, and the types of request each takes. */
export const REQUEST_TYPES = {
  messages: ['message', 'file'],
  tasks: ['schedule_task', 'update_task', 'pause_task', 'resume_task', 'cancel_task', 'register_group'],
} as const;

export type IpcKind = keyof typeof REQUEST_TYPES;
export type RequestType = (typeof REQUEST_TYPES)[IpcKind][number];
export const IPC_KINDS = Object.keys(REQUEST_TYPES) as IpcKind[];

/** The folder a request of `type` is written into. */
export function kindOf(type: RequestType): IpcKind {
  return IPC_KINDS.find((kind) => (REQUEST_TYPES[kind] as readonly string[]).includes(type)) as IpcKind;
}

/** How a scheduled task runs: `isolated` (the default) in a fresh session, `group` in the group's. */
export const CONTEXT_MODES = ['isolated', 'group'] as const;
export type ContextMode = (typeof CONTEXT_MODES)[number];

/** A group folder name (register_group's `folder`): also a path segment and part of container names. */
export const FOLDER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** The main group's folder, which register_group may not take. */
export const MAIN_FOLDER = 'main';

/** The longest a request's text field may be, in characters. */
export const MAX_FIELD_CHARS = 64 * 1024;

/**
 * A request file as the agent writes it (snake_case where the reference NanoClaw has it). Every string is
 * non-empty and at most MAX_FIELD_CHARS; a field left out takes the default said here.
 */
export type RequestFile =
  | { type: 'message'; chatJid: string; text: string }
  /** `path` is relative to the group's folder (`/workspace/group`), where the host reads the file. */
  | { type: 'file'; chatJid: string; path: string; caption?: string }
  | {
      type: 'schedule_task';
      prompt: string;
      schedule_type: ScheduleType;
      /** As `@boilerhouse/nanoclaw-schedule` takes it for `schedule_type`; milliseconds may be a number. */
      schedule_value: string | number;
      context_mode?: ContextMode;
      /** The chat the task belongs to and posts into; the group's own chat when left out. */
      targetJid?: string;
    }
  | {
      type: 'update_task';
      taskId: string;
      prompt?: string;
      /** Together with schedule_value, or neither. */
      schedule_type?: ScheduleType;
      schedule_value?: string | number;
    }
  | { type: 'pause_task' | 'resume_task' | 'cancel_task'; taskId: string }
  /** `folder` matches FOLDER_PATTERN, is not MAIN_FOLDER nor taken; `trigger` is e.g. `@Andy`. */
  | { type: 'register_group'; jid: string; name: string; folder: string; trigger?: string };

/** A request as parseRequest reads it: every field checked, the defaults filled in. */
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

type Field = (field: string, optional?: boolean) => string | undefined;

/** The request in a file's text, or what is wrong with it. `kind` is the folder it came from. */
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
  const string: Field = (field, optional = false) => {
    const found = body[field];
    if (found === undefined && optional) return undefined;
    if (typeof found !== 'string' || found.trim() === '' || found.length > MAX_FIELD_CHARS) {
      problems.push(`${field} must be a non-empty string${optional ? ' when given' : ''}`);
      return undefined;
    }
    return found;
  };
  const type = body.type;
  const allowed: readonly string[] = REQUEST_TYPES[kind];
  if (typeof type !== 'string' || !allowed.includes(type)) {
    return `type must be one of ${allowed.join(', ')} in ${kind}/, got ${JSON.stringify(type)}`;
  }
  const request = build(type as RequestType, body, string, problems);
  return problems.length > 0 ? problems.join('; ') : request;
}

function build(
  type: RequestType,
  body: Record<string, unknown>,
  string: Field,
  problems: string[],
): IpcRequest {
  const scheduleValue = (): string | undefined => {
    const found = body.schedule_value;
    if (typeof found === 'number' && Number.isFinite(found)) return String(found);
    return string('schedule_value');
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
      if (!(CONTEXT_MODES as readonly unknown[]).includes(contextMode))
        problems.push('context_mode must be isolated or group');
      return {
        type,
        prompt: string('prompt') ?? '',
        scheduleType: scheduleType(false) ?? 'once',
        scheduleValue: scheduleValue() ?? '',
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
        schedule: kind !== undefined && hasValue ? { type: kind, value: scheduleValue() ?? '' } : undefined,
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
  }
}
