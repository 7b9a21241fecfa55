/**
 * Who runs next. At most one agent run per group and `maxConcurrent` in all; a group's scheduled tasks go
 * before its messages, and groups with tasks before groups with only messages. New messages for a group
 * whose run is in progress are offered to that run first (a follow-up into the running container). A
 * failed message run is retried with exponential back-off (capped, with jitter), at most
 * `maxAttempts` runs in a row, each retry counted (`retried`). A run that only waits for follow-ups (idle)
 * is asked to close when other work needs its slot.
 */
import { backoffDelay } from '@boilerhouse/kit/backoff';
import type { Logger } from '../log.ts';

export type RunKind = 'messages' | 'task';

/** What the queue knows of a run in progress. */
export interface ActiveRun {
  /** Hands the group's new messages to the running container; false when this run cannot take them. */
  offerMessages(): boolean;
  /** Asks the container to finish after its current turn. */
  close(): void;
}

/** How a run tells the queue about itself. */
export interface RunSignals {
  register(run: ActiveRun): void;
  /** The run has answered everything and only waits for follow-ups: its slot may be reclaimed. */
  idle(): void;
  /** It is working on something again. */
  busy(): void;
}

/** done: nothing left; failed: retry after back-off; unfinished: messages remain, run again now. */
export type MessagesOutcome = 'done' | 'failed' | 'unfinished';

export interface QueueWork {
  /** `arm`: with no message to answer, start the group's agent anyway, for the messages to come. */
  runMessages(folder: string, attempt: number, signals: RunSignals, arm: boolean): Promise<MessagesOutcome>;
  runTask(folder: string, taskId: string, signals: RunSignals): Promise<void>;
}

export interface QueueOptions {
  maxConcurrent: number;
  retryBaseMs: number;
  /** Runs of a group's messages in a row, the first included; the run itself gives up on the last. */
  maxAttempts: number;
  /** Counts a retry about to be scheduled. */
  retried(folder: string): void;
  log: Logger;
}

interface GroupSlot {
  running: RunKind | undefined;
  runningTask: string | undefined;
  active: ActiveRun | undefined;
  idleSince: number | undefined;
  pendingMessages: boolean;
  /** The next message run is to start the group's agent even if no message waits (armMessages). */
  arm: boolean;
  pendingTasks: string[];
  attempt: number;
  retryTimer: NodeJS.Timeout | undefined;
}

export class GroupQueue {
  readonly #work: QueueWork;
  readonly #options: QueueOptions;
  readonly #groups = new Map<string, GroupSlot>();
  /** Groups with work and no run, in arrival order. */
  readonly #waiting: string[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #running = 0;
  #stopped = false;

  constructor(work: QueueWork, options: QueueOptions) {
    this.#work = work;
    this.#options = options;
  }

  /** A group has new messages. */
  enqueueMessages(folder: string): void {
    if (this.#stopped) return;
    const slot = this.#slot(folder);
    if (slot.running !== undefined) {
      if (slot.running === 'messages' && slot.active?.offerMessages() === true) return;
      slot.pendingMessages = true;
      return;
    }
    slot.pendingMessages = true;
    if (slot.retryTimer !== undefined) return; // the retry picks them up
    this.#wait(folder);
    this.#pump();
  }

  /**
   * Like enqueueMessages, and a run that then finds no message to answer starts the group's agent anyway,
   * to wait for the messages to come (armed). Nothing, while the group has a run.
   */
  armMessages(folder: string): void {
    if (this.#stopped) return;
    const slot = this.#slot(folder);
    if (slot.running !== undefined) return;
    slot.arm = true;
    this.enqueueMessages(folder);
  }

  /** A scheduled task of a group is due. Queuing a task already queued or running does nothing. */
  enqueueTask(folder: string, taskId: string): void {
    if (this.#stopped || this.isTaskQueued(taskId)) return;
    const slot = this.#slot(folder);
    slot.pendingTasks.push(taskId);
    if (slot.running !== undefined) {
      if (slot.idleSince !== undefined) slot.active?.close();
      return;
    }
    this.#wait(folder);
    this.#pump();
  }

  isTaskQueued(taskId: string): boolean {
    return this.queuedTaskIds().has(taskId);
  }

  /** Every task queued or running. */
  queuedTaskIds(): Set<string> {
    const ids = new Set<string>();
    for (const slot of this.#groups.values()) {
      for (const id of slot.pendingTasks) ids.add(id);
      if (slot.runningTask !== undefined) ids.add(slot.runningTask);
    }
    return ids;
  }

  /** Asks a group's run in progress to finish (its session is being cleared, or it was unregistered). */
  closeGroup(folder: string): void {
    this.#groups.get(folder)?.active?.close();
  }

  /** Work waiting for a slot or a retry (not counting runs in progress). */
  depth(): number {
    let depth = 0;
    for (const slot of this.#groups.values())
      depth += slot.pendingTasks.length + (slot.pendingMessages ? 1 : 0);
    return depth;
  }

  running(): number {
    return this.#running;
  }

  /** Takes no more work, drops retries, and waits for runs in progress (the caller stops them). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const slot of this.#groups.values()) {
      if (slot.retryTimer !== undefined) clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
    }
    await Promise.allSettled([...this.#inFlight]);
  }

  #slot(folder: string): GroupSlot {
    let slot = this.#groups.get(folder);
    if (slot === undefined) {
      slot = {
        running: undefined,
        runningTask: undefined,
        active: undefined,
        idleSince: undefined,
        pendingMessages: false,
        arm: false,
        pendingTasks: [],
        attempt: 0,
        retryTimer: undefined,
      };
      this.#groups.set(folder, slot);
    }
    return slot;
  }

  #wait(folder: string): void {
    if (!this.#waiting.includes(folder)) this.#waiting.push(folder);
  }

  #pump(): void {
    if (this.#stopped) return;
    while (this.#running < this.#options.maxConcurrent) {
      const next = this.#nextWaiting();
      if (next === undefined) break;
      this.#start(next);
    }
    this.#reclaimIdle();
  }

  /** Groups with a task first, then the others, each in arrival order. */
  #nextWaiting(): string | undefined {
    const ready = (folder: string) => {
      const slot = this.#slot(folder);
      return slot.running === undefined && (slot.pendingTasks.length > 0 || slot.pendingMessages);
    };
    const withTask = this.#waiting.findIndex(
      (folder) => ready(folder) && this.#slot(folder).pendingTasks.length > 0,
    );
    const index = withTask >= 0 ? withTask : this.#waiting.findIndex(ready);
    if (index < 0) {
      this.#waiting.length = 0;
      return undefined;
    }
    return this.#waiting.splice(index, 1)[0];
  }

  /** When work waits for a slot, idle runs (oldest first) are asked to close. */
  #reclaimIdle(): void {
    const waiting = this.#waiting.length;
    if (waiting === 0 || this.#running < this.#options.maxConcurrent) return;
    const idle = [...this.#groups.values()]
      .filter((slot) => slot.idleSince !== undefined && slot.active !== undefined)
      .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0));
    for (const slot of idle.slice(0, waiting)) {
      slot.idleSince = undefined;
      slot.active?.close();
    }
  }

  #start(folder: string): void {
    const slot = this.#slot(folder);
    const signals: RunSignals = {
      register: (run) => {
        slot.active = run;
      },
      idle: () => {
        slot.idleSince = Date.now();
        if (slot.pendingTasks.length > 0) slot.active?.close();
        else this.#reclaimIdle();
      },
      busy: () => {
        slot.idleSince = undefined;
      },
    };
    this.#running++;
    let work: Promise<void>;
    const taskId = slot.pendingTasks.shift();
    if (taskId !== undefined) {
      slot.running = 'task';
      slot.runningTask = taskId;
      work = this.#work.runTask(folder, taskId, signals);
    } else {
      slot.running = 'messages';
      slot.pendingMessages = false;
      const arm = slot.arm;
      slot.arm = false;
      work = this.#work
        .runMessages(folder, slot.attempt, signals, arm)
        .then((outcome) => this.#afterMessages(folder, outcome));
    }
    const tracked = work
      .catch((error: unknown) =>
        this.#options.log.error({ group: folder, error }, 'agent run failed unexpectedly'),
      )
      .finally(() => {
        slot.running = undefined;
        slot.runningTask = undefined;
        slot.active = undefined;
        slot.idleSince = undefined;
        this.#running--;
        this.#inFlight.delete(tracked);
        if (slot.pendingTasks.length > 0 || (slot.pendingMessages && slot.retryTimer === undefined)) {
          this.#wait(folder);
        }
        this.#pump();
      });
    this.#inFlight.add(tracked);
  }

  #afterMessages(folder: string, outcome: MessagesOutcome): void {
    if (this.#stopped) return;
    const slot = this.#slot(folder);
    if (outcome === 'unfinished') {
      slot.pendingMessages = true;
      return;
    }
    if (outcome === 'done') {
      slot.attempt = 0;
      return;
    }
    if (slot.attempt + 1 >= this.#options.maxAttempts) {
      // The run should have given up on its last attempt; never retry past the cap all the same.
      this.#options.log.error(
        { group: folder, attempts: slot.attempt + 1 },
        'agent run failed on its last attempt; not retried',
      );
      slot.attempt = 0;
      return;
    }
    const delay = retryDelayMs(this.#options.retryBaseMs, slot.attempt);
    slot.attempt++;
    try {
      this.#options.retried(folder);
    } catch (error) {
      this.#options.log.error({ group: folder, error }, 'a retry could not be counted');
    }
    this.#options.log.warn(
      { group: folder, attempt: slot.attempt, retryInMs: delay },
      'agent run failed, will retry',
    );
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      slot.pendingMessages = true;
      if (slot.running === undefined) {
        this.#wait(folder);
        this.#pump();
      }
    }, delay);
  }
}

/** The longest wait before a retry: past Node's timer limit (~24.8 days) a timer fires at once. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

/**
 * base x 2^attempt, capped, with ±10% jitter so that groups failing together (a channel or the model
 * down) do not all retry in the same instant.
 */
export function retryDelayMs(baseMs: number, attempt: number, random = Math.random): number {
  return backoffDelay({ firstMs: baseMs, longestMs: MAX_RETRY_DELAY_MS, jitter: 0.1 }, attempt + 1, random);
}
