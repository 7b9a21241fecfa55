/**
 * Runs of scheduled tasks. A run is claimed in one transaction that moves the task's next_run on (or
 * completes a one-off) only if next_run is still what the scheduler saw, and logs the run as `running`:
 * two claims of one due time cannot both win, so a task never fires twice for one time, across restarts
 * too. A run still `running` when the host starts again was cut off by a crash: it is logged `interrupted`
 * and not repeated (at most once per scheduled time).
 */
import { type Database, inTransaction } from './database.ts';

export type RunStatus = 'running' | 'success' | 'error' | 'interrupted';

export interface TaskRun {
  id: number;
  taskId: string;
  scheduledFor: number;
  runAt: number;
  durationMs: number | null;
  status: RunStatus;
  result: string | null;
  error: string | null;
}

interface Row {
  id: number;
  task_id: string;
  scheduled_for: number;
  run_at: number;
  duration_ms: number | null;
  status: RunStatus;
  result: string | null;
  error: string | null;
}

const toRun = (row: Row): TaskRun => ({
  id: row.id,
  taskId: row.task_id,
  scheduledFor: row.scheduled_for,
  runAt: row.run_at,
  durationMs: row.duration_ms,
  status: row.status,
  result: row.result,
  error: row.error,
});

export interface Claim {
  taskId: string;
  /** The next_run the caller saw; the claim fails when it changed meanwhile. */
  scheduledFor: number;
  /** The task's following run, or null for a one-off (which is then completed). */
  nextRun: number | null;
  now: number;
}

export class TaskRunStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** Claims one due run; returns its run id, or undefined when someone else claimed or changed it first. */
  claim(claim: Claim): number | undefined {
    return inTransaction(this.#db, () => {
      const moved = this.#db
        .prepare(
          `UPDATE scheduled_tasks SET next_run = ?, status = CASE WHEN ? IS NULL THEN 'completed' ELSE status END
           WHERE id = ? AND status = 'active' AND next_run = ?`,
        )
        .run(claim.nextRun, claim.nextRun, claim.taskId, claim.scheduledFor);
      if (moved.changes === 0) return undefined;
      const run = this.#db
        .prepare(
          "INSERT INTO task_run_logs (task_id, scheduled_for, run_at, status) VALUES (?, ?, ?, 'running')",
        )
        .run(claim.taskId, claim.scheduledFor, claim.now);
      return Number(run.lastInsertRowid);
    });
  }

  /** Records how a run ended, and the task's last run and result. */
  finish(
    runId: number,
    outcome: { status: 'success' | 'error'; result: string | null; error: string | null; durationMs: number },
  ): void {
    inTransaction(this.#db, () => {
      const row = this.#db.prepare('SELECT task_id, run_at FROM task_run_logs WHERE id = ?').get(runId) as
        | { task_id: string; run_at: number }
        | undefined;
      if (row === undefined) return; // the task was cancelled meanwhile, and its logs with it
      this.#db
        .prepare('UPDATE task_run_logs SET status = ?, result = ?, error = ?, duration_ms = ? WHERE id = ?')
        .run(outcome.status, outcome.result, outcome.error, outcome.durationMs, runId);
      this.#db
        .prepare('UPDATE scheduled_tasks SET last_run = ?, last_result = ? WHERE id = ?')
        .run(
          row.run_at,
          outcome.status === 'success' ? outcome.result : `error: ${outcome.error}`,
          row.task_id,
        );
    });
  }

  /** Marks runs left `running` by a crashed host as interrupted; returns how many. */
  markInterrupted(): number {
    return Number(
      this.#db
        .prepare(
          "UPDATE task_run_logs SET status = 'interrupted', error = 'the host stopped during the run' WHERE status = 'running'",
        )
        .run().changes,
    );
  }

  /** A task's runs, newest first. */
  recent(taskId: string, limit: number): TaskRun[] {
    const rows = this.#db
      .prepare('SELECT * FROM task_run_logs WHERE task_id = ? ORDER BY run_at DESC, id DESC LIMIT ?')
      .all(taskId, limit) as unknown as Row[];
    return rows.map(toRun);
  }
}
