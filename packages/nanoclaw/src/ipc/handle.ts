/**
 * One request file: parse it, authorise it by its directory's group, carry it out. What is malformed,
 * not allowed or impossible as it stands is refused with a reason; an error while carrying it out (a
 * channel that is down) is thrown, for the watcher to retry.
 */

import { parseRequest } from '@boilerhouse/nanoclaw-agent/ipc-requests';
import { MAIN_FOLDER } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { TaskStore } from '../store/tasks.ts';
import { type ApplyDeps, applyRequest, RequestRefusedError } from './apply.ts';
import { authorize } from './authorize.ts';
import type { FileHandler } from './watcher.ts';

export interface HandleDeps extends ApplyDeps {
  groups: GroupRegistry;
  tasks: TaskStore;
  log: Logger;
}

export function ipcFileHandler(deps: HandleDeps): FileHandler {
  return async (folder, kind, file, text) => {
    const log = deps.log.child({ group: folder, file: `${kind}/${file}` });
    const request = parseRequest(text, kind);
    if (typeof request === 'string') {
      log.warn({ problem: request }, 'IPC request refused: malformed');
      return { status: 'refused', reason: `malformed: ${request}` };
    }
    const requester = {
      folder,
      isMain: folder === MAIN_FOLDER && deps.groups.jidOf(MAIN_FOLDER) !== undefined,
    };
    const decision = authorize(request, requester, {
      folderOfChat: (jid) => deps.groups.get(jid)?.folder,
      folderOfTask: (id) => deps.tasks.get(id)?.groupFolder,
      chatOfFolder: (name) => deps.groups.jidOf(name),
    });
    if (!decision.allowed) {
      log.warn({ type: request.type, reason: decision.reason }, 'IPC request refused');
      return { status: 'refused', reason: decision.reason };
    }
    try {
      const { taskId } = await applyRequest(request, requester, deps);
      log.info({ type: request.type }, 'IPC request carried out');
      return taskId === undefined ? { status: 'accepted' } : { status: 'accepted', taskId };
    } catch (error) {
      if (!(error instanceof RequestRefusedError)) throw error;
      log.warn({ type: request.type, reason: error.message }, 'IPC request refused');
      return { status: 'refused', reason: error.message };
    }
  };
}
