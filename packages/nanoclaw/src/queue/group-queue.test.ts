/**
 * The queue's rules, with runs it starts through its QueueWork interface: each run here is a promise the
 * test settles, standing in for an agent run's duration.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import {
  GroupQueue,
  MAX_RETRY_DELAY_MS,
  type MessagesOutcome,
  type QueueWork,
  type RunSignals,
  retryDelayMs,
} from './group-queue.ts';

interface Started {
  kind: 'messages' | 'task';
  folder: string;
  taskId?: string;
  attempt?: number;
  arm?: boolean;
  signals: RunSignals;
  finish(outcome?: MessagesOutcome): void;
}

function harness(options: { maxConcurrent: number; retryBaseMs?: number; maxAttempts?: number }) {
  const started: Started[] = [];
  const retried: string[] = [];
  const work: QueueWork = {
    runMessages: (folder, attempt, signals, arm) =>
      new Promise((resolve) => {
        started.push({
          kind: 'messages',
          folder,
          attempt,
          arm,
          signals,
          finish: (outcome = 'done') => resolve(outcome),
        });
      }),
    runTask: (folder, taskId, signals) =>
      new Promise((resolve) => {
        started.push({ kind: 'task', folder, taskId, signals, finish: () => resolve() });
      }),
  };
  const queue = new GroupQueue(work, {
    maxConcurrent: options.maxConcurrent,
    retryBaseMs: options.retryBaseMs ?? 10,
    maxAttempts: options.maxAttempts ?? 100,
    retried: (folder) => retried.push(folder),
    log: silentLogger,
  });
  return { queue, started, retried };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

async function until<T>(value: () => T | undefined): Promise<T> {
  for (;;) {
    const found = value();
    if (found !== undefined) return found;
    await settle();
  }
}

describe('GroupQueue', () => {
  it('arms a message run once when asked, and not again while the group has a run', async () => {
    const { queue, started } = harness({ maxConcurrent: 5 });
    queue.armMessages('main');
    expect(started.map((run) => [run.folder, run.arm])).toEqual([['main', true]]);
    queue.armMessages('main');
    expect(started).toHaveLength(1);
    started[0]?.finish();
    await settle();
    queue.enqueueMessages('main');
    expect(started.map((run) => run.arm)).toEqual([true, false]);
  });

  it('runs one agent per group and offers new messages to the run in progress', async () => {
    const { queue, started } = harness({ maxConcurrent: 5 });
    queue.enqueueMessages('a');
    expect(started).toHaveLength(1);
    const offered: string[] = [];
    started[0]?.signals.register({ offerMessages: () => offered.push('a') > 0, close: () => undefined });
    queue.enqueueMessages('a');
    expect(offered).toEqual(['a']);
    expect(started).toHaveLength(1);
  });

  it('keeps messages the running run cannot take for a run after it', async () => {
    const { queue, started } = harness({ maxConcurrent: 5 });
    queue.enqueueMessages('a');
    started[0]?.signals.register({ offerMessages: () => false, close: () => undefined });
    queue.enqueueMessages('a');
    expect(queue.depth()).toBe(1);
    started[0]?.finish();
    await settle();
    expect(started.map((run) => run.folder)).toEqual(['a', 'a']);
  });

  it('holds to the global cap, and starts waiting groups as slots free', async () => {
    const { queue, started } = harness({ maxConcurrent: 2 });
    for (const folder of ['a', 'b', 'c']) queue.enqueueMessages(folder);
    expect(started.map((run) => run.folder)).toEqual(['a', 'b']);
    expect(queue.running()).toBe(2);
    started[0]?.finish();
    await settle();
    expect(started.map((run) => run.folder)).toEqual(['a', 'b', 'c']);
  });

  it('starts scheduled tasks before messages, within a group and across groups', async () => {
    const { queue, started } = harness({ maxConcurrent: 1 });
    queue.enqueueMessages('a');
    queue.enqueueMessages('b');
    queue.enqueueTask('c', 'task-c');
    queue.enqueueMessages('a');
    queue.enqueueTask('a', 'task-a');
    started[0]?.finish();
    await settle();
    started[1]?.finish();
    await settle();
    started[2]?.finish();
    await settle();
    expect(started.map((run) => `${run.kind}:${run.folder}`)).toEqual([
      'messages:a',
      'task:c',
      'task:a',
      'messages:b',
    ]);
  });

  it('queues a task once, however often it is due', () => {
    const { queue, started } = harness({ maxConcurrent: 1 });
    queue.enqueueMessages('x');
    queue.enqueueTask('a', 'task-1');
    queue.enqueueTask('a', 'task-1');
    expect(queue.isTaskQueued('task-1')).toBe(true);
    expect(queue.depth()).toBe(1);
    expect(started).toHaveLength(1);
  });

  it('asks an idle run to close when other work needs its slot', async () => {
    const { queue, started } = harness({ maxConcurrent: 1 });
    queue.enqueueMessages('a');
    let closed = 0;
    started[0]?.signals.register({ offerMessages: () => true, close: () => closed++ });
    queue.enqueueMessages('b');
    expect(closed).toBe(0); // busy: b waits
    started[0]?.signals.idle();
    expect(closed).toBe(1);
  });

  it('closes an idle run of the same group for its task', () => {
    const { queue, started } = harness({ maxConcurrent: 3 });
    queue.enqueueMessages('a');
    let closed = 0;
    started[0]?.signals.register({ offerMessages: () => true, close: () => closed++ });
    started[0]?.signals.idle();
    queue.enqueueTask('a', 'task-1');
    expect(closed).toBe(1);
  });

  it('retries a failed run with exponential back-off and counts the attempts', async () => {
    const { queue, started } = harness({ maxConcurrent: 1, retryBaseMs: 40 });
    queue.enqueueMessages('a');
    started[0]?.finish('failed');
    await settle();
    expect(started).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(started.map((run) => run.attempt)).toEqual([0, 1]);
    started[1]?.finish('failed');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(started).toHaveLength(2); // the second wait is 80 ms
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(started.map((run) => run.attempt)).toEqual([0, 1, 2]);
    started[2]?.finish('done');
    await settle();
    queue.enqueueMessages('a');
    expect(started[3]?.attempt).toBe(0);
  });

  it('counts each retry and never runs a group more than maxAttempts times in a row', async () => {
    const { queue, started, retried } = harness({ maxConcurrent: 1, retryBaseMs: 1, maxAttempts: 3 });
    queue.enqueueMessages('a');
    for (let run = 0; run < 3; run++) {
      await until(() => started[run]);
      started[run]?.finish('failed');
    }
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 50)); // room for a retry that must not come
    expect(started.map((run) => run.attempt)).toEqual([0, 1, 2]);
    expect(retried).toEqual(['a', 'a']);
    expect(queue.depth()).toBe(0);
  });

  it('waits base x 2^attempt with ±10% jitter, never longer than the cap (a timer past its limit fires at once)', () => {
    expect(retryDelayMs(5000, 0, () => 0.5)).toBe(5000);
    expect(retryDelayMs(5000, 3, () => 0)).toBe(36_000);
    expect(retryDelayMs(5000, 3, () => 0.999_999)).toBe(44_000);
    for (const attempt of [7, 19, 40, 1000]) {
      expect(retryDelayMs(5000, attempt, () => 0.999_999)).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS * 1.1);
      expect(retryDelayMs(5000, attempt, () => 0)).toBe(MAX_RETRY_DELAY_MS * 0.9);
    }
  });

  it('runs again at once when a run ends with messages left', async () => {
    const { queue, started } = harness({ maxConcurrent: 1 });
    queue.enqueueMessages('a');
    started[0]?.finish('unfinished');
    await settle();
    expect(started).toHaveLength(2);
  });

  it('stops taking work and waits for runs in progress', async () => {
    const { queue, started } = harness({ maxConcurrent: 1 });
    queue.enqueueMessages('a');
    const stopped = queue.stop();
    queue.enqueueMessages('b');
    started[0]?.finish('failed');
    await stopped;
    await settle();
    expect(started).toHaveLength(1);
  });
});
