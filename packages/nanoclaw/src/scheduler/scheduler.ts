/**
 * Fires due tasks into the group queue. No polling: one timer set for the earliest next run (re-checked at
 * least every minute, in case the clock jumps), re-aimed whenever tasks change (`kick`). The run itself
 * claims its due time (task-runs.ts), so a task queued twice, or by two processes, still runs once.
 */
import type { Logger } from '../log.ts';
import type { TaskStore } from '../store/tasks.ts';

export interface SchedulerDeps {
  tasks: TaskStore;
  enqueue(folder: string, taskId: string): void;
  isQueued(taskId: string): boolean;
  queuedTaskIds(): ReadonlySet<string>;
  now(): number;
  log: Logger;
}

const MAX_SLEEP_MS = 60_000;

export class Scheduler {
  readonly #deps: SchedulerDeps;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    this.kick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Queues what is due now and aims the timer at the next due time. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#deps.now();
    try {
      for (const task of this.#deps.tasks.due(now)) {
        if (this.#deps.isQueued(task.id)) continue;
        this.#deps.log.info({ task: task.id, group: task.groupFolder }, 'task due');
        this.#deps.enqueue(task.groupFolder, task.id);
      }
    } catch (error) {
      this.#deps.log.error({ error }, 'could not queue due tasks');
    }
    const next = this.#deps.tasks.nextRunAfter(this.#deps.queuedTaskIds());
    const sleep =
      next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, next - this.#deps.now()));
    this.#timer = setTimeout(() => this.kick(), sleep);
    this.#timer.unref();
  }
}
