/**
 * What an agent may read about the host (`@boilerhouse/nanoclaw-agent/ipc-snapshots`): `current_tasks.json`
 * (its group's tasks; every task for main) and, for main, `available_groups.json` (every chat seen).
 * Rewritten atomically before each run and after each change.
 */
import { existsSync, lchownSync } from 'node:fs';
import { join } from 'node:path';
import {
  AVAILABLE_GROUPS_FILE,
  CURRENT_TASKS_FILE,
  type GroupSnapshot,
  type TaskSnapshot,
} from '@boilerhouse/nanoclaw-agent/ipc-snapshots';
import { AGENT_UID, type Layout, MAIN_FOLDER } from '../layout.ts';
import type { ChatStore } from '../store/chats.ts';
import type { GroupRegistry } from '../store/groups.ts';
import { writeJsonAtomic } from '../store/json-file.ts';
import type { TaskRunStore } from '../store/task-runs.ts';
import type { Task, TaskStore } from '../store/tasks.ts';

export interface SnapshotDeps {
  layout: Layout;
  tasks: TaskStore;
  taskRuns: TaskRunStore;
  chats: ChatStore;
  groups: GroupRegistry;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class Snapshots {
  readonly #deps: SnapshotDeps;
  constructor(deps: SnapshotDeps) {
    this.#deps = deps;
  }

  /** Rewrites the files of one group (whose IPC dir must exist). */
  write(folder: string): void {
    const dir = this.#deps.layout.ipcDir(folder);
    if (!existsSync(dir)) return;
    const isMain = folder === MAIN_FOLDER;
    const tasks = this.#deps.tasks.list(isMain ? undefined : folder);
    writeReadable(
      join(dir, CURRENT_TASKS_FILE),
      tasks.map((task) => this.#taskView(task)),
    );
    if (isMain) writeReadable(join(dir, AVAILABLE_GROUPS_FILE), this.#groupsView());
  }

  /** Rewrites the files of every registered group. */
  writeAll(): void {
    for (const [, group] of this.#deps.groups.entries()) this.write(group.folder);
  }

  #taskView(task: Task): TaskSnapshot {
    return {
      id: task.id,
      groupFolder: task.groupFolder,
      chatJid: task.chatJid,
      prompt: task.prompt,
      schedule_type: task.scheduleType,
      schedule_value: task.scheduleValue,
      context_mode: task.contextMode,
      status: task.status,
      ...(task.pausedReason === null ? {} : { paused_reason: task.pausedReason }),
      next_run: iso(task.nextRun),
      last_run: iso(task.lastRun),
      last_result: task.lastResult,
      recent_runs: this.#deps.taskRuns.recent(task.id, 5).map((run) => ({
        run_at: new Date(run.runAt).toISOString(),
        duration_ms: run.durationMs,
        status: run.status,
        result: run.result,
        error: run.error,
      })),
    };
  }

  /** Every chat seen, and registered ones that have not spoken yet. */
  #groupsView(): GroupSnapshot[] {
    const chats = this.#deps.chats.list();
    const seen = new Set(chats.map((chat) => chat.jid));
    const silent = this.#deps.groups
      .entries()
      .filter(([jid]) => !seen.has(jid))
      .map(([jid, group]) => ({ jid, name: group.name, lastMessageAt: null }));
    return [...chats, ...silent].map((chat) => {
      const group = this.#deps.groups.get(chat.jid);
      return {
        jid: chat.jid,
        name: chat.name || group?.name || chat.jid,
        folder: group?.folder ?? null,
        registered: group !== undefined,
        last_message_at: iso(chat.lastMessageAt),
      };
    });
  }
}

function writeReadable(path: string, value: unknown): void {
  writeJsonAtomic(path, value);
  // lchown: should the agent swap a link in after the rename, the link changes, not what it points to.
  if (process.getuid?.() === 0) lchownSync(path, AGENT_UID, AGENT_UID);
}
