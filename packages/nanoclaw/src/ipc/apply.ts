/** Carries out a request that authorize() allowed. */
import { randomBytes } from 'node:crypto';
import { type Layout, MAIN_FOLDER, prepareGroupDirs } from '../layout.ts';
import type { Logger } from '../log.ts';
import { firstRun } from '../scheduler/schedule.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { TaskStore } from '../store/tasks.ts';
import type { Requester } from './authorize.ts';
import type { IpcRequest } from './requests.ts';

export interface ApplyDeps {
  layout: Layout;
  timezone: string;
  tasks: TaskStore;
  groups: GroupRegistry;
  deliver(chatJid: string, text: string): Promise<void>;
  /** Tasks or groups changed: refresh what agents read, re-aim the scheduler. */
  changed(): void;
  now(): number;
  log: Logger;
}

/** Applies the request; throws an Error saying why when it cannot be done. */
export async function applyRequest(
  request: IpcRequest,
  requester: Requester,
  deps: ApplyDeps,
): Promise<void> {
  switch (request.type) {
    case 'message':
      await deps.deliver(request.chatJid, request.text);
      return;
    case 'schedule_task': {
      const chatJid = request.targetJid ?? deps.groups.jidOf(requester.folder);
      const group = chatJid === undefined ? undefined : deps.groups.get(chatJid);
      if (chatJid === undefined || group === undefined) throw new Error('the target chat is not registered');
      const now = deps.now();
      const nextRun = firstRun(request.scheduleType, request.scheduleValue, deps.timezone, now);
      if (typeof nextRun === 'string') throw new Error(nextRun);
      const id = `task-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
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
      if (task === undefined) throw new Error(`there is no task ${request.taskId}`);
      const changes: Parameters<TaskStore['update']>[1] = {};
      if (request.prompt !== undefined) changes.prompt = request.prompt;
      if (request.schedule !== undefined) {
        const nextRun = firstRun(request.schedule.type, request.schedule.value, deps.timezone, deps.now());
        if (typeof nextRun === 'string') throw new Error(nextRun);
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
      if (task === undefined) throw new Error(`there is no task ${request.taskId}`);
      if (task.status !== 'paused') throw new Error(`task ${task.id} is ${task.status}, not paused`);
      // A recurring task picks up its schedule from now; a one-off keeps its time (run at once if passed).
      const nextRun =
        task.scheduleType === 'once'
          ? task.nextRun
          : firstRun(task.scheduleType, task.scheduleValue, deps.timezone, deps.now());
      if (typeof nextRun === 'string') throw new Error(nextRun);
      deps.tasks.update(task.id, { status: 'active', nextRun });
      break;
    }
    case 'cancel_task':
      deps.tasks.delete(request.taskId);
      break;
    case 'register_group': {
      if (request.folder === MAIN_FOLDER) throw new Error('folder "main" belongs to the main group');
      deps.groups.register(request.jid, {
        name: request.name,
        folder: request.folder,
        ...(request.trigger !== undefined ? { trigger: request.trigger } : {}),
        addedAt: new Date(deps.now()).toISOString(),
      });
      prepareGroupDirs(deps.layout, request.folder);
      deps.log.info({ jid: request.jid, group: request.folder }, 'group registered');
      break;
    }
  }
  deps.changed();
}
