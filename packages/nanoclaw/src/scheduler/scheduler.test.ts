import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { followingRun } from '@boilerhouse/nanoclaw-schedule';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { openDatabase } from '../store/database.ts';
import { TaskRunStore } from '../store/task-runs.ts';
import { type Task, TaskStore } from '../store/tasks.ts';
import { tempHome } from '../testing/temp-home.ts';
import { Scheduler } from './scheduler.ts';
import { WakeFile } from './wake-file.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
beforeEach(async () => {
  home = await tempHome();
});
afterEach(() => home.remove());

const newTask = (
  id: string,
  nextRun: number,
  scheduleType: Task['scheduleType'] = 'once',
  scheduleValue = 'x',
) => ({
  id,
  groupFolder: 'main',
  chatJid: 'web:main',
  prompt: 'p',
  scheduleType,
  scheduleValue,
  contextMode: 'isolated' as const,
  status: 'active' as const,
  nextRun,
  createdAt: 0,
});

function scheduler(
  tasks: TaskStore,
  fired: Array<{ id: string; at: number }>,
  options: { queued?: Set<string>; now?: () => number } = {},
) {
  const queued = options.queued ?? new Set<string>();
  return new Scheduler({
    tasks,
    enqueue: (_folder, id) => {
      queued.add(id);
      fired.push({ id, at: Date.now() });
    },
    isQueued: (id) => queued.has(id),
    queuedTaskIds: () => queued,
    now: options.now ?? (() => Date.now()),
    wakeFile: new WakeFile(join(home.path, 'data', 'wake-at'), silentLogger),
    log: silentLogger,
  });
}

/** The wake file's content, or undefined when there is none. */
function wakeAt(): string | undefined {
  try {
    return readFileSync(join(home.path, 'data', 'wake-at'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

describe('Scheduler', () => {
  it('fires a task at its time from one timer, and re-aims when tasks change', async () => {
    const tasks = new TaskStore(openDatabase(':memory:'));
    const fired: Array<{ id: string; at: number }> = [];
    const due = Date.now() + 150;
    tasks.create(newTask('soon', due));
    const loop = scheduler(tasks, fired);
    loop.start();
    tasks.create(newTask('sooner', Date.now() + 50));
    loop.kick();
    await new Promise((resolve) => setTimeout(resolve, 300));
    loop.stop();
    expect(fired.map((entry) => entry.id)).toEqual(['sooner', 'soon']);
    const soon = fired[1]?.at ?? 0;
    expect(soon).toBeGreaterThanOrEqual(due);
  });

  it('does not fire a paused task', async () => {
    const tasks = new TaskStore(openDatabase(':memory:'));
    tasks.create({ ...newTask('paused', Date.now() - 10), status: 'paused' });
    const fired: Array<{ id: string; at: number }> = [];
    const loop = scheduler(tasks, fired);
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    loop.stop();
    expect(fired).toEqual([]);
  });

  it('keeps the wake file at the earliest due time as tasks change, and removes it when none is due', () => {
    const tasks = new TaskStore(openDatabase(':memory:'));
    const later = Date.parse('2030-05-01T09:00:00Z');
    const loop = scheduler(tasks, []);
    loop.start();
    expect(wakeAt()).toBeUndefined();
    tasks.create(newTask('later', later));
    loop.kick();
    expect(wakeAt()).toBe('2030-05-01T09:00:00.000Z\n');
    tasks.create(newTask('sooner', later - 3_600_000));
    loop.kick();
    expect(wakeAt()).toBe('2030-05-01T08:00:00.000Z\n');
    tasks.update('sooner', { status: 'paused' });
    loop.kick();
    expect(wakeAt()).toBe('2030-05-01T09:00:00.000Z\n');
    tasks.delete('later');
    loop.kick();
    expect(wakeAt()).toBeUndefined();
    loop.stop();
  });

  it('moves the wake file on after a run: the next slot of a recurring task, none after a one-off', () => {
    const db = openDatabase(':memory:');
    const tasks = new TaskStore(db);
    const runs = new TaskRunStore(db);
    const hour = 3_600_000;
    const start = Date.parse('2026-01-01T00:00:00Z');
    const now = start + 90 * 60_000; // both were due while the host was stopped
    tasks.create(newTask('hourly', start, 'interval', String(hour)));
    tasks.create(newTask('once', start + hour));
    const fired: Array<{ id: string; at: number }> = [];
    const queued = new Set<string>();
    const loop = scheduler(tasks, fired, { queued, now: () => now });
    loop.start();
    expect(fired.map((entry) => entry.id)).toEqual(['hourly', 'once']);
    // Queued, not run yet: a host that stopped it now should start it again at once.
    expect(wakeAt()).toBe('2026-01-01T00:00:00.000Z\n');
    // Each run as task-run.ts does it: claim the due time, finish, tell the scheduler.
    for (const id of ['hourly', 'once']) {
      const task = tasks.get(id) as Task;
      const next = followingRun(task.scheduleType, task.scheduleValue, 'UTC', task.nextRun as number, now);
      const runId = runs.claim({ taskId: id, scheduledFor: task.nextRun as number, nextRun: next, now });
      queued.delete(id);
      loop.kick();
      runs.finish(runId as number, { status: 'success', result: 'ok', error: null, durationMs: 1 });
      loop.kick();
    }
    expect(wakeAt()).toBe('2026-01-01T02:00:00.000Z\n');
    tasks.delete('hourly');
    loop.kick();
    loop.stop();
    expect(wakeAt()).toBeUndefined();
    expect(fired).toHaveLength(2);
  });

  it('writes the wake file only when its time changes (every write is activity to its host)', () => {
    const tasks = new TaskStore(openDatabase(':memory:'));
    tasks.create(newTask('later', Date.parse('2030-05-01T09:00:00Z')));
    const loop = scheduler(tasks, []);
    loop.start();
    const path = join(home.path, 'data', 'wake-at');
    const first = statSync(path).ino;
    loop.kick();
    loop.kick();
    loop.stop();
    // Each write is a new file renamed into place: the same inode means no write.
    expect(statSync(path).ino).toBe(first);
  });

  it('never fires a claimed time twice across a restart, and makes up one missed run, not each', () => {
    const path = join(home.path, 'messages.db');
    const minute = 60_000;
    const start = Date.parse('2026-01-01T00:00:00Z');
    // First life: the task is claimed for its 00:00 run, then the host dies mid-run.
    let db = openDatabase(path);
    new TaskStore(db).create(newTask('every-minute', start, 'interval', String(minute)));
    const claim = (runs: TaskRunStore, tasks: TaskStore, now: number) => {
      const task = tasks.get('every-minute') as Task;
      const next = followingRun('interval', String(minute), 'UTC', task.nextRun as number, now);
      return runs.claim({ taskId: task.id, scheduledFor: task.nextRun as number, nextRun: next, now });
    };
    expect(claim(new TaskRunStore(db), new TaskStore(db), start + 10)).toBeTypeOf('number');
    db.close();
    // Second life, five and a half minutes later.
    db = openDatabase(path);
    const tasks = new TaskStore(db);
    const runs = new TaskRunStore(db);
    expect(runs.markInterrupted()).toBe(1);
    expect(tasks.get('every-minute')?.nextRun).toBe(start + minute);
    const back = start + 5.5 * minute;
    expect(tasks.due(back).map((task) => task.id)).toEqual(['every-minute']);
    expect(claim(runs, tasks, back)).toBeTypeOf('number');
    // One catch-up run; the next is the next slot on the grid after now.
    expect(tasks.get('every-minute')?.nextRun).toBe(start + 6 * minute);
    expect(tasks.due(back)).toEqual([]);
    expect(runs.recent('every-minute', 5).map((run) => [run.scheduledFor - start, run.status])).toEqual([
      [minute, 'running'],
      [0, 'interrupted'],
    ]);
    db.close();
  });
});
