/** Scheduled tasks: what to run, for which group, when next. Their runs are in task-runs.ts. */
import type { ContextMode } from '@boilerhouse/nanoclaw-agent/ipc-requests';
import type { ScheduleType } from '@boilerhouse/nanoclaw-schedule';
import type { Database } from './database.ts';

export type { ScheduleType };
export type TaskStatus = 'active' | 'paused' | 'completed';

export interface Task {
  id: string;
  groupFolder: string;
  chatJid: string;
  prompt: string;
  scheduleType: ScheduleType;
  scheduleValue: string;
  contextMode: ContextMode;
  status: TaskStatus;
  /** ms; null when it will not run again. */
  nextRun: number | null;
  lastRun: number | null;
  lastResult: string | null;
  createdAt: number;
  /** Why an active task waits (a usage limit); it runs again at next_run, the limit's reset. */
  pausedReason: string | null;
}

interface Row {
  id: string;
  group_folder: string;
  chat_jid: string;
  prompt: string;
  schedule_type: ScheduleType;
  schedule_value: string;
  context_mode: ContextMode;
  status: TaskStatus;
  next_run: number | null;
  last_run: number | null;
  last_result: string | null;
  created_at: number;
  paused_reason: string | null;
}

const toTask = (row: Row): Task => ({
  id: row.id,
  groupFolder: row.group_folder,
  chatJid: row.chat_jid,
  prompt: row.prompt,
  scheduleType: row.schedule_type,
  scheduleValue: row.schedule_value,
  contextMode: row.context_mode,
  status: row.status,
  nextRun: row.next_run,
  lastRun: row.last_run,
  lastResult: row.last_result,
  createdAt: row.created_at,
  pausedReason: row.paused_reason,
});

export type TaskChanges = Partial<
  Pick<
    Task,
    'prompt' | 'scheduleType' | 'scheduleValue' | 'status' | 'nextRun' | 'contextMode' | 'pausedReason'
  >
>;

const COLUMNS: Record<keyof TaskChanges, string> = {
  prompt: 'prompt',
  scheduleType: 'schedule_type',
  scheduleValue: 'schedule_value',
  status: 'status',
  nextRun: 'next_run',
  contextMode: 'context_mode',
  pausedReason: 'paused_reason',
};

export class TaskStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  create(task: Omit<Task, 'lastRun' | 'lastResult' | 'pausedReason'>): Task {
    this.#db
      .prepare(
        `INSERT INTO scheduled_tasks
           (id, group_folder, chat_jid, prompt, schedule_type, schedule_value, context_mode, status, next_run, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        task.id,
        task.groupFolder,
        task.chatJid,
        task.prompt,
        task.scheduleType,
        task.scheduleValue,
        task.contextMode,
        task.status,
        task.nextRun,
        task.createdAt,
      );
    return { ...task, lastRun: null, lastResult: null, pausedReason: null };
  }

  get(id: string): Task | undefined {
    const row = this.#db.prepare('SELECT * FROM scheduled_tasks WHERE id = ?').get(id) as Row | undefined;
    return row === undefined ? undefined : toTask(row);
  }

  /** All tasks, or one group's, oldest first. */
  list(groupFolder?: string): Task[] {
    const rows = (groupFolder === undefined
      ? this.#db.prepare('SELECT * FROM scheduled_tasks ORDER BY created_at, id').all()
      : this.#db
          .prepare('SELECT * FROM scheduled_tasks WHERE group_folder = ? ORDER BY created_at, id')
          .all(groupFolder)) as unknown as Row[];
    return rows.map(toTask);
  }

  update(id: string, changes: TaskChanges): void {
    const entries = Object.entries(changes) as Array<[keyof TaskChanges, unknown]>;
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${COLUMNS[key]} = ?`).join(', ');
    this.#db
      .prepare(`UPDATE scheduled_tasks SET ${sets} WHERE id = ?`)
      .run(...(entries.map(([, value]) => value) as Array<string | number | null>), id);
  }

  delete(id: string): void {
    this.#db.prepare('DELETE FROM scheduled_tasks WHERE id = ?').run(id);
  }

  /** Active tasks whose time has come, earliest first. */
  due(now: number): Task[] {
    const rows = this.#db
      .prepare(
        "SELECT * FROM scheduled_tasks WHERE status = 'active' AND next_run IS NOT NULL AND next_run <= ? ORDER BY next_run",
      )
      .all(now) as unknown as Row[];
    return rows.map(toTask);
  }

  /** The earliest next_run of an active task, excluding `skip` (tasks already waiting to run). */
  nextRunAfter(skip: ReadonlySet<string>): number | undefined {
    const rows = this.#db
      .prepare(
        "SELECT id, next_run FROM scheduled_tasks WHERE status = 'active' AND next_run IS NOT NULL ORDER BY next_run",
      )
      .all() as Array<{ id: string; next_run: number }>;
    return rows.find((row) => !skip.has(row.id))?.next_run;
  }
}
