/**
 * What the host lets an agent read (AGENT-PROTOCOL.md, "Reads"), kept up to date in `/workspace/ipc/`:
 * the tasks its group may see, and for main every chat the host has seen. The one definition of those
 * files: the host writes them (ipc/snapshots.ts), list_tasks and get_task read the first. Pure.
 */
import type { ScheduleType } from '@boilerhouse/nanoclaw-schedule';
import type { ContextMode } from './ipc-requests.ts';

export const CURRENT_TASKS_FILE = 'current_tasks.json';
export const AVAILABLE_GROUPS_FILE = 'available_groups.json';

/** Times are ISO strings. */
export interface TaskRunSnapshot {
  run_at: string;
  /** Null while the run is still going. */
  duration_ms: number | null;
  status: 'running' | 'success' | 'error' | 'interrupted';
  result: string | null;
  error: string | null;
}

/** One entry of `current_tasks.json`: every task for main, the group's own for another group. */
export interface TaskSnapshot {
  id: string;
  groupFolder: string;
  chatJid: string;
  prompt: string;
  schedule_type: ScheduleType;
  schedule_value: string;
  context_mode: ContextMode;
  status: 'active' | 'paused' | 'completed';
  /** Why the host paused it, when it did. */
  paused_reason?: string;
  next_run: string | null;
  last_run: string | null;
  last_result: string | null;
  /** Up to 5, newest first. */
  recent_runs: TaskRunSnapshot[];
}

/** One entry of `available_groups.json` (main only): a chat the host has seen, for register_group. */
export interface GroupSnapshot {
  jid: string;
  name: string;
  /** Null when the chat is not registered. */
  folder: string | null;
  registered: boolean;
  last_message_at: string | null;
}
