/**
 * Whether a group may make a request. The group is the directory the file appeared in; nothing in the
 * file can change that. Main may do anything; another group may message only its own chat and touch only
 * its own tasks, and may not register groups.
 */
import type { IpcRequest } from '@boilerhouse/nanoclaw-agent/ipc-requests';

export interface Requester {
  folder: string;
  isMain: boolean;
}

export interface AuthorizationFacts {
  /** The registered folder of a chat, if it is registered. */
  folderOfChat(jid: string): string | undefined;
  /** The group folder a task belongs to, if the task exists. */
  folderOfTask(taskId: string): string | undefined;
  /** The requester's own chat. */
  chatOfFolder(folder: string): string | undefined;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

export function authorize(request: IpcRequest, requester: Requester, facts: AuthorizationFacts): Decision {
  switch (request.type) {
    case 'message':
    case 'file': {
      if (requester.isMain) return allow;
      const folder = facts.folderOfChat(request.chatJid);
      return folder === requester.folder
        ? allow
        : deny(`group ${requester.folder} may only message its own chat`);
    }
    case 'schedule_task': {
      const target = request.targetJid ?? facts.chatOfFolder(requester.folder);
      if (target === undefined) return deny(`group ${requester.folder} has no registered chat`);
      const folder = facts.folderOfChat(target);
      if (folder === undefined) return deny(`chat ${target} is not registered`);
      if (requester.isMain || folder === requester.folder) return allow;
      return deny(`group ${requester.folder} may only schedule tasks for its own chat`);
    }
    case 'update_task':
    case 'pause_task':
    case 'resume_task':
    case 'cancel_task': {
      const folder = facts.folderOfTask(request.taskId);
      if (folder === undefined) return deny(`there is no task ${request.taskId}`);
      if (requester.isMain || folder === requester.folder) return allow;
      return deny(`group ${requester.folder} may only manage its own tasks`);
    }
    case 'register_group':
      return requester.isMain ? allow : deny('only the main group may register groups');
  }
}
