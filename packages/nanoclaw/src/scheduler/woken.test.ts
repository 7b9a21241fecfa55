/**
 * A host started again for a task that fell due while it was stopped, as Boilerhouse's `pool.wake.at_file`
 * starts a released tenant: the real host (`bin/nanoclaw`, a child process), the real agent image, the
 * scripted model server. The task runs once and its reply is in the chat; the wake file moves on; a later
 * start, or one after the host was killed mid-run, does not run it again.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MessagesRequest,
  type ModelServer,
  type ScriptedReply,
  startModelServer,
} from '../../../nanoclaw-agent/src/testing/model-server.ts';
import { lastUserText } from '../../../nanoclaw-agent/src/testing/requests.ts';
import { openDatabase } from '../store/database.ts';
import { TaskStore } from '../store/tasks.ts';
import {
  ChatClient,
  type HostProcess,
  removeAgentContainersOf,
  spawnHost,
  until,
} from '../testing/e2e-host.ts';
import { tempHome } from '../testing/temp-home.ts';

const HOUR = 3_600_000;
const answers = new Map<string, () => ScriptedReply | Promise<ScriptedReply>>();
let model: ModelServer;
const homes: Array<Awaited<ReturnType<typeof tempHome>>> = [];

beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', 'nanoclaw-agent:latest'], { stdio: 'ignore' });
  model = await startModelServer(
    async (request: MessagesRequest) => {
      const text = lastUserText(request);
      for (const [marker, answer] of answers) if (text.includes(marker)) return answer();
      return [{ type: 'text', text: `no script for: ${text.slice(-200)}` }];
    },
    { host: '127.0.0.1' },
  );
});

afterAll(async () => {
  for (const home of homes) {
    await removeAgentContainersOf(home.path);
    await home.remove();
  }
  await model?.close();
});

/** A home whose database already holds one task for the main chat, due at `nextRun`. */
async function homeWithTask(task: { prompt: string; type: 'once' | 'interval'; nextRun: number }) {
  const home = await tempHome('nanoclaw-woken-');
  homes.push(home);
  mkdirSync(join(home.path, 'store'));
  const db = openDatabase(join(home.path, 'store', 'messages.db'));
  new TaskStore(db).create({
    id: 'task-1',
    groupFolder: 'main',
    chatJid: 'web:main',
    prompt: task.prompt,
    scheduleType: task.type,
    scheduleValue: task.type === 'interval' ? String(HOUR) : new Date(task.nextRun).toISOString(),
    contextMode: 'isolated',
    status: 'active',
    nextRun: task.nextRun,
    createdAt: task.nextRun - HOUR,
  });
  db.close();
  return home;
}

const environment = (home: string) => ({
  NANOCLAW_HOME: home,
  NANOCLAW_PORT: '0',
  ANTHROPIC_BASE_URL: model.url,
  ANTHROPIC_API_KEY: `sk-ant-woken-${randomBytes(8).toString('hex')}`,
  TZ: 'UTC',
  IDLE_TIMEOUT: '60000',
  NANOCLAW_PREWARM: 'false',
});

const wakeAt = (home: string) => {
  try {
    return readFileSync(join(home, 'data', 'wake-at'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

const runs = (home: string) => {
  const db = new DatabaseSync(join(home, 'store', 'messages.db'), { readOnly: true });
  try {
    return db
      .prepare('SELECT scheduled_for, status FROM task_run_logs ORDER BY id')
      .all()
      .map((row) => [Number(row.scheduled_for), String(row.status)]);
  } finally {
    db.close();
  }
};

const requestsWith = (marker: string) =>
  model.requests.filter((request) => lastUserText(request).includes(marker)).length;

async function stop(host: HostProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const exited = new Promise((resolve) => host.child.once('exit', resolve));
  host.child.kill(signal);
  await exited;
}

/**
 * Proves a started host queued nothing more for the task: tasks run before messages, and the scheduler
 * queues what is due before the host says it is up, so a reply to this message comes after any such run.
 */
async function barrier(chat: ChatClient, marker: string): Promise<void> {
  answers.set(marker, () => [{ type: 'text', text: `${marker} answered` }]);
  await chat.post('main', marker);
  await chat.reply('main', (text) => text === `${marker} answered`, 90_000);
}

describe('NanoClaw woken for a due task', () => {
  it('runs a task missed while stopped once, writes its next time, and a restart does not run it again', async () => {
    const due = Date.now() - 30 * 60_000;
    const home = await homeWithTask({ prompt: 'WAKE-TASK: report', type: 'interval', nextRun: due });
    answers.set('WAKE-TASK', () => [{ type: 'text', text: 'woken and reported' }]);
    let host = await spawnHost(environment(home.path));
    const chat = new ChatClient(() => host.url);
    try {
      await chat.reply('main', (text) => text === 'woken and reported', 90_000);
      // The next slot on the task's grid, for the host to wake it then.
      await until(() => runs(home.path)[0]?.[1] === 'success' || undefined, 'the run to finish');
      expect(wakeAt(home.path)).toBe(`${new Date(due + HOUR).toISOString()}\n`);
      await stop(host, 'SIGTERM');

      host = await spawnHost(environment(home.path));
      await barrier(chat, 'after-wake');
      expect(requestsWith('WAKE-TASK')).toBe(1);
      expect(runs(home.path)).toEqual([[due, 'success']]);
      expect(await chat.replies('main')).toEqual(['woken and reported', 'after-wake answered']);
      expect(wakeAt(home.path)).toBe(`${new Date(due + HOUR).toISOString()}\n`);
    } finally {
      await stop(host, 'SIGTERM');
    }
  }, 240_000);

  it('does not run a one-off again after the host was killed during its run, and removes the wake file', async () => {
    const due = Date.now() - 5 * 60_000;
    const home = await homeWithTask({ prompt: 'KILLED-TASK: report', type: 'once', nextRun: due });
    let reached = 0;
    const held = Promise.withResolvers<void>();
    answers.set('KILLED-TASK', async () => {
      reached++;
      await held.promise;
      return [{ type: 'text', text: 'from the killed run' }];
    });
    let host = await spawnHost(environment(home.path));
    const chat = new ChatClient(() => host.url);
    try {
      await until(() => reached === 1 || undefined, 'the run to reach the model', 90_000);
      // Claimed, so no time is due any more: the wake file is gone before the run ends.
      expect(wakeAt(home.path)).toBeUndefined();
      await stop(host, 'SIGKILL');
      held.resolve(); // the orphaned container may answer now; no host reads it

      host = await spawnHost(environment(home.path));
      await barrier(chat, 'after-kill');
      expect(reached).toBe(1);
      expect(runs(home.path)).toEqual([[due, 'interrupted']]);
      expect(await chat.replies('main')).toEqual(['after-kill answered']);
      expect(wakeAt(home.path)).toBeUndefined();
    } finally {
      await stop(host, 'SIGTERM');
    }
  }, 240_000);
});
