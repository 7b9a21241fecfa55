/** Carries out a request that authorize() allowed. */
import { randomBytes } from 'node:crypto';
import type { IpcRequest } from '@boilerhouse/nanoclaw-agent/ipc-requests';
import { firstRun } from '@boilerhouse/nanoclaw-schedule';
import type { OutgoingFile } from '../files/attachment.ts';
import { FileRefusedError, type GroupFiles } from '../files/group-files.ts';
import { sniffType } from '../files/sniff.ts';
import { type Layout, MAIN_FOLDER, prepareGroupDirs } from '../layout.ts';
import type { Logger } from '../log.ts';
import { NoChannelError } from '../router/outbound.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { TaskStore } from '../store/tasks.ts';
import type { Requester } from './authorize.ts';

export interface ApplyDeps {
  layout: Layout;
  timezone: string;
  tasks: TaskStore;
  groups: GroupRegistry;
  deliver(chatJid: string, text: string): Promise<void>;
  /** Sends a file to a chat and keeps a copy in group `folder`'s files. */
  deliverFile(
    chatJid: string,
    file: OutgoingFile,
    caption: string | undefined,
    folder: string,
  ): Promise<void>;
  files: GroupFiles;
  /** Tasks or groups changed: refresh what agents read, re-aim the scheduler. */
  changed(): void;
  now(): number;
  log: Logger;
}

/** A request that can never be carried out as it stands (no such task, a bad schedule): not retried. */
export class RequestRefusedError extends Error {}

const refuse = (reason: string) => new RequestRefusedError(reason);

/**
 * Applies the request, answering the id of a task it created. Throws RequestRefusedError when the request
 * cannot be done as it stands, anything else when it could not be done now (a channel that is down).
 */
export async function applyRequest(
  request: IpcRequest,
  requester: Requester,
  deps: ApplyDeps,
): Promise<{ taskId?: string }> {
  let created: string | undefined;
  switch (request.type) {
    case 'message':
      try {
        await deps.deliver(request.chatJid, request.text);
      } catch (error) {
        // Channels are fixed at start: a chat no channel serves never gets one.
        if (error instanceof NoChannelError) throw refuse(error.message);
        throw error;
      }
      return {};
    case 'file': {
      // Read from the requester's own folder, whatever the payload says; kept with the chat's files.
      let bytes: Buffer;
      try {
        bytes = deps.files.readPath(requester.folder, request.path);
      } catch (error) {
        if (error instanceof FileRefusedError) throw refuse(error.message);
        throw error;
      }
      const file = { name: request.path.split('/').at(-1) as string, type: sniffType(bytes), bytes };
      const folder = deps.groups.get(request.chatJid)?.folder ?? requester.folder;
      try {
        await deps.deliverFile(request.chatJid, file, request.caption, folder);
      } catch (error) {
        if (error instanceof NoChannelError) throw refuse(error.message);
        throw error;
      }
      return {};
    }
    case 'schedule_task': {
      const chatJid = request.targetJid ?? deps.groups.jidOf(requester.folder);
      const group = chatJid === undefined ? undefined : deps.groups.get(chatJid);
      if (chatJid === undefined || group === undefined) throw refuse('the target chat is not registered');
      const now = deps.now();
      const nextRun = firstRun(request.scheduleType, request.scheduleValue, deps.timezone, now);
      if (typeof nextRun === 'string') throw refuse(nextRun);
      const id = `task-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
      created = id;
      deps.tasks.create({
        id,
        groupFolder: group.folder,
        chatJid,
        prompt: request.prompt,
        scheduleType: request.scheduleType,
        scheduleValue: request.scheduleValue,
        contextMode: request.contextMode,
        status: 'active',
        nextRun,
        createdAt: now,
      });
      deps.log.info(
        { task: id, group: group.folder, by: requester.folder, nextRun: new Date(nextRun).toISOString() },
        'task scheduled',
      );
      break;
    }
    case 'update_task': {
      const task = deps.tasks.get(request.taskId);
      if (task === undefined) throw refuse(`there is no task ${request.taskId}`);
      const changes: Parameters<TaskStore['update']>[1] = {};
      if (request.prompt !== undefined) changes.prompt = request.prompt;
      if (request.schedule !== undefined) {
        const nextRun = firstRun(request.schedule.type, request.schedule.value, deps.timezone, deps.now());
        if (typeof nextRun === 'string') throw refuse(nextRun);
        Object.assign(changes, {
          scheduleType: request.schedule.type,
          scheduleValue: request.schedule.value,
          nextRun,
          ...(task.status === 'completed' ? { status: 'active' } : {}),
        });
      }
      deps.tasks.update(task.id, changes);
      break;
    }
    case 'pause_task':
      deps.tasks.update(request.taskId, { status: 'paused' });
      break;
    case 'resume_task': {
      const task = deps.tasks.get(request.taskId);
      if (task === undefined) throw refuse(`there is no task ${request.taskId}`);
      if (task.status !== 'paused') throw refuse(`task ${task.id} is ${task.status}, not paused`);
      // A recurring task picks up its schedule from now; a one-off keeps its time (run at once if passed).
      const nextRun =
        task.scheduleType === 'once'
          ? task.nextRun
          : firstRun(task.scheduleType, task.scheduleValue, deps.timezone, deps.now());
      if (typeof nextRun === 'string') throw refuse(nextRun);
      deps.tasks.update(task.id, { status: 'active', nextRun });
      break;
    }
    case 'cancel_task':
      deps.tasks.delete(request.taskId);
      break;
    case 'register_group': {
      if (request.folder === MAIN_FOLDER) throw refuse('folder "main" belongs to the main group');
      const group = {
        name: request.name,
        folder: request.folder,
        ...(request.trigger !== undefined ? { trigger: request.trigger } : {}),
        addedAt: new Date(deps.now()).toISOString(),
      };
      const problem = deps.groups.registrationProblem(request.jid, group);
      if (problem !== undefined) throw refuse(problem);
      deps.groups.register(request.jid, group);
      prepareGroupDirs(deps.layout, request.folder);
      deps.log.info({ jid: request.jid, group: request.folder }, 'group registered');
      break;
    }
  }
  deps.changed();
  return created === undefined ? {} : { taskId: created };
}
