/** One request file: parse it, authorise it by its directory's group, carry it out; log what is refused. */
import { MAIN_FOLDER } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { TaskStore } from '../store/tasks.ts';
import { type ApplyDeps, applyRequest } from './apply.ts';
import { authorize } from './authorize.ts';
import { parseRequest } from './requests.ts';
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
      return;
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
      return;
    }
    try {
      await applyRequest(request, requester, deps);
      log.info({ type: request.type }, 'IPC request carried out');
    } catch (error) {
      log.warn({ type: request.type, error }, 'IPC request could not be carried out');
    }
  };
}
