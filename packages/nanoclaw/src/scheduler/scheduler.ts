/**
 * Fires due tasks into the group queue. No polling: one timer set for the earliest next run (re-checked at
 * least every minute, in case the clock jumps), re-aimed whenever tasks change (`kick`). The run itself
 * claims its due time (task-runs.ts), so a task queued twice, or by two processes, still runs once.
 * Each kick also tells the wake file (wake-file.ts) the earliest due time, so a host that stopped this
 * NanoClaw starts it again for its next task.
 */
import type { Logger } from '../log.ts';
import type { TaskStore } from '../store/tasks.ts';
import type { WakeTime } from './wake-file.ts';

export interface SchedulerDeps {
  tasks: TaskStore;
  enqueue(folder: string, taskId: string): void;
  isQueued(taskId: string): boolean;
  queuedTaskIds(): ReadonlySet<string>;
  now(): number;
  wakeFile: WakeTime;
  log: Logger;
}

const MAX_SLEEP_MS = 60_000;
const NOTHING_QUEUED: ReadonlySet<string> = new Set();

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
    // A task queued but not yet run still counts: stopped now, this host must be started again at once.
    this.#deps.wakeFile.set(this.#deps.tasks.nextRunAfter(NOTHING_QUEUED));
    const next = this.#deps.tasks.nextRunAfter(this.#deps.queuedTaskIds());
    const sleep =
      next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, next - this.#deps.now()));
    this.#timer = setTimeout(() => this.kick(), sleep);
    this.#timer.unref();
  }
}
