import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEDULE_CASES } from '@boilerhouse/nanoclaw-schedule/testing/cases';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { TaskSnapshot } from './ipc-snapshots.ts';
import { nanoclawTools } from './mcp-tools.ts';
import { type Answerer, answerRequests } from './testing/host-answers.ts';
import type { ToolContext } from './tool-context.ts';

let ipcDir: string;
/** How the stand-in host answers each request; undefined: it does not answer. */
let answer: Answerer | undefined;
let stopAnswering: () => Promise<void>;

beforeEach(async () => {
  ipcDir = await mkdtemp(join(tmpdir(), 'nanoclaw-tools-'));
  answer = () => ({ status: 'accepted' });
  stopAnswering = answerRequests(ipcDir, () => answer);
});

afterEach(async () => {
  await stopAnswering();
  await rm(ipcDir, { recursive: true, force: true });
});

function context(isMain: boolean, replyTimeoutMs = 10_000): ToolContext {
  return {
    ipcDir,
    chatJid: isMain ? 'web:main' : 'tg:-100200',
    isMain,
    groupDir: '/workspace/group',
    replyTimeoutMs,
  };
}

/** Calls a tool's handler as the MCP server would after validating the arguments. */
async function call(isMain: boolean, name: string, args: Record<string, unknown>, replyTimeoutMs?: number) {
  const found = nanoclawTools(context(isMain, replyTimeoutMs)).find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no tool ${name}`);
  const result = await found.handler(args as never, {});
  const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
  return { text, isError: result.isError === true };
}

/** The requests written into ipc/{kind}/, in order; each file whole, no temp file left behind. */
async function requests(kind: 'messages' | 'tasks'): Promise<unknown[]> {
  const dir = join(ipcDir, kind);
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  expect(names.every((name) => /^\d+-[0-9a-f]{8}\.json$/.test(name))).toBe(true);
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8'))));
}

const task: TaskSnapshot = {
  id: 'task-7',
  groupFolder: 'main',
  chatJid: 'web:main',
  prompt: 'Remind me to water the plants',
  schedule_type: 'cron',
  schedule_value: '0 9 * * *',
  context_mode: 'isolated',
  status: 'active',
  next_run: '2026-11-22T09:00:00.000Z',
  last_run: '2026-11-21T09:00:00.000Z',
  last_result: 'Reminded.',
  recent_runs: [
    {
      run_at: '2026-11-21T09:00:00.000Z',
      duration_ms: 1834,
      status: 'success',
      result: 'Reminded.',
      error: null,
    },
  ],
};

test('main is offered all ten tools; other groups the nine without register_group', () => {
  const names = (isMain: boolean) => nanoclawTools(context(isMain)).map((tool) => tool.name);
  expect(names(true).sort()).toEqual(
    [
      'cancel_task',
      'get_task',
      'list_tasks',
      'pause_task',
      'register_group',
      'resume_task',
      'schedule_task',
      'send_file',
      'send_message',
      'update_task',
    ].sort(),
  );
  expect(names(false)).not.toContain('register_group');
  expect(names(false)).toHaveLength(9);
});

test("send_message writes a message for the group's own chat, or the chat it names", async () => {
  expect(await call(false, 'send_message', { text: 'on it' })).toEqual({
    text: 'Message sent.',
    isError: false,
  });
  await call(true, 'send_message', { text: 'hello family', chat_jid: 'wa:family@g.us' });
  expect(await requests('messages')).toEqual([
    { type: 'message', chatJid: 'tg:-100200', text: 'on it' },
    { type: 'message', chatJid: 'wa:family@g.us', text: 'hello family' },
  ]);
});

test('schedule_task writes the request with the protocol field names, and refuses a bad schedule', async () => {
  await call(false, 'schedule_task', {
    prompt: 'Say good morning',
    schedule_type: 'cron',
    schedule_value: '0 8 * * *',
  });
  await call(true, 'schedule_task', {
    prompt: 'Check in',
    schedule_type: 'interval',
    schedule_value: '3600000',
    context_mode: 'group',
    target_jid: 'wa:family@g.us',
  });
  const bad = await call(false, 'schedule_task', {
    prompt: 'x',
    schedule_type: 'once',
    schedule_value: 'soon',
  });
  expect(bad.isError).toBe(true);
  expect(bad.text).toContain('"soon" is not an ISO time');
  expect(await requests('tasks')).toEqual([
    { type: 'schedule_task', prompt: 'Say good morning', schedule_type: 'cron', schedule_value: '0 8 * * *' },
    {
      type: 'schedule_task',
      prompt: 'Check in',
      schedule_type: 'interval',
      schedule_value: '3600000',
      context_mode: 'group',
      targetJid: 'wa:family@g.us',
    },
  ]);
});

test('update, pause, resume and cancel each write one request naming the task', async () => {
  await call(false, 'update_task', { task_id: 'task-7', prompt: 'Water the plants and the herbs' });
  await call(false, 'update_task', {
    task_id: 'task-7',
    schedule_type: 'cron',
    schedule_value: '0 10 * * *',
  });
  await call(false, 'pause_task', { task_id: 'task-7' });
  await call(false, 'resume_task', { task_id: 'task-7' });
  expect(await call(false, 'cancel_task', { task_id: 'task-7' })).toEqual({
    text: 'Task task-7 cancelled.',
    isError: false,
  });
  expect(await requests('tasks')).toEqual([
    { type: 'update_task', taskId: 'task-7', prompt: 'Water the plants and the herbs' },
    { type: 'update_task', taskId: 'task-7', schedule_type: 'cron', schedule_value: '0 10 * * *' },
    { type: 'pause_task', taskId: 'task-7' },
    { type: 'resume_task', taskId: 'task-7' },
    { type: 'cancel_task', taskId: 'task-7' },
  ]);
});

test('update_task refuses half a schedule and an empty change, writing nothing', async () => {
  const half = await call(false, 'update_task', { task_id: 'task-7', schedule_type: 'cron' });
  expect(half).toEqual({
    text: 'Give schedule_type and schedule_value together, or neither.',
    isError: true,
  });
  expect((await call(false, 'update_task', { task_id: 'task-7' })).text).toMatch(/^Nothing to change/);
  expect(await requests('tasks')).toEqual([]);
});

test('list_tasks and get_task read current_tasks.json', async () => {
  expect((await call(false, 'list_tasks', {})).text).toBe('No scheduled tasks.');
  await writeFile(join(ipcDir, 'current_tasks.json'), JSON.stringify([task]));
  expect((await call(false, 'list_tasks', {})).text).toBe(
    'Scheduled tasks:\n- task-7 [active] cron 0 9 * * *, next run 2026-11-22T09:00:00.000Z: Remind me to water the plants',
  );
  const details = (await call(false, 'get_task', { task_id: 'task-7' })).text;
  expect(details).toContain('schedule: cron 0 9 * * *');
  expect(details).toContain('- 2026-11-21T09:00:00.000Z success in 1834 ms: Reminded.');
  expect(await call(false, 'get_task', { task_id: 'task-8' })).toEqual({
    text: 'No task task-8; list_tasks shows the ids.',
    isError: true,
  });
});

test('a current_tasks.json that is not a list is reported as such', async () => {
  await writeFile(join(ipcDir, 'current_tasks.json'), '{"tasks": []}');
  await expect(call(false, 'list_tasks', {})).rejects.toThrow(
    'current_tasks.json: expected a JSON array of tasks',
  );
});

test('register_group writes the request, and refuses a folder the host would refuse', async () => {
  await call(true, 'register_group', {
    jid: 'wa:family@g.us',
    name: 'Family',
    folder: 'family-chat',
    trigger: '@Andy',
  });
  expect((await call(true, 'register_group', { jid: 'x', name: 'X', folder: '../main' })).text).toMatch(
    /folder "\.\.\/main": use 1-64 lowercase letters/,
  );
  expect((await call(true, 'register_group', { jid: 'x', name: 'X', folder: 'main' })).isError).toBe(true);
  expect(await requests('tasks')).toEqual([
    {
      type: 'register_group',
      jid: 'wa:family@g.us',
      name: 'Family',
      folder: 'family-chat',
      trigger: '@Andy',
    },
  ]);
});

test.each(SCHEDULE_CASES)(
  'schedule_task takes $type "$value" exactly when the host does (refusal: $refusal)',
  async ({ type, value, refusal }) => {
    const result = await call(false, 'schedule_task', {
      prompt: 'x',
      schedule_type: type,
      schedule_value: value,
    });
    if (refusal === null) {
      expect(result).toEqual({ text: `Scheduled: ${type} ${value}.`, isError: false });
      expect(await requests('tasks')).toHaveLength(1);
    } else {
      expect(result.isError).toBe(true);
      expect(result.text).toContain(refusal);
      expect(await requests('tasks')).toEqual([]);
    }
  },
);

test("the host's answer is what the model hears: the task id, a refusal and why, a retry, or no answer yet", async () => {
  answer = () => ({ status: 'accepted', taskId: 'task-42' });
  expect(
    await call(false, 'schedule_task', { prompt: 'x', schedule_type: 'cron', schedule_value: '0 8 * * *' }),
  ).toEqual({ text: 'Scheduled task task-42: cron 0 8 * * *.', isError: false });
  answer = () => ({ status: 'refused', reason: 'group family may only manage its own tasks' });
  expect(await call(false, 'pause_task', { task_id: 'task-7' })).toEqual({
    text: 'The host refused this request: group family may only manage its own tasks',
    isError: true,
  });
  answer = () => ({ status: 'retrying', reason: 'Telegram is not connected' });
  expect(await call(false, 'send_message', { text: 'hi' }, 200)).toEqual({
    text: 'Not done yet: the host could not carry this out (Telegram is not connected) and will try again.',
    isError: false,
  });
  answer = undefined;
  expect(await call(false, 'send_message', { text: 'hello?' }, 0)).toEqual({
    text: 'Sent to the host, which has not answered yet; it may still carry this out.',
    isError: false,
  });
  // Final answers are removed once read; the retrying one stays for the host to replace.
  expect(
    (await readdir(join(ipcDir, 'responses'))).filter((name) => name.endsWith('.result.json')),
  ).toHaveLength(1);
});
