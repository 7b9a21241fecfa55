/**
 * Requests from agents through real files in real IPC dirs, with the real stores behind them: each is
 * authorised by the directory it appears in, never by what it says about itself.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { SCHEDULE_CASES } from '@boilerhouse/nanoclaw-schedule/testing/cases';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nanoclawTools } from '../../../nanoclaw-agent/src/mcp-tools.ts';
import { WebChannel } from '../channels/web.ts';
import { GroupFiles } from '../files/group-files.ts';
import { Layout, prepareGroupDirs, prepareHome } from '../layout.ts';
import { createLogger, type Logger } from '../log.ts';
import { Outbound } from '../router/outbound.ts';
import { ChatStore } from '../store/chats.ts';
import { openDatabase } from '../store/database.ts';
import { GroupRegistry } from '../store/groups.ts';
import { MessageStore } from '../store/messages.ts';
import { RouterState } from '../store/router-state.ts';
import { TaskRunStore } from '../store/task-runs.ts';
import { TaskStore } from '../store/tasks.ts';
import { tempHome } from '../testing/temp-home.ts';
import { ipcFileHandler } from './handle.ts';
import { Snapshots } from './snapshots.ts';
import { IpcWatcher } from './watcher.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let world: Awaited<ReturnType<typeof setUp>>;

async function setUp() {
  const layout = new Layout(home.path);
  prepareHome(layout, 'Andy');
  const db = openDatabase(':memory:');
  const messages = new MessageStore(db);
  const tasks = new TaskStore(db);
  const taskRuns = new TaskRunStore(db);
  const chats = new ChatStore(db);
  const groups = new GroupRegistry(layout.registeredGroupsPath);
  groups.register('web:main', { name: 'Main', folder: 'main', addedAt: 'x' });
  groups.register('web:family', { name: 'Family', folder: 'family', addedAt: 'x' });
  groups.register('web:work', { name: 'Work', folder: 'work', addedAt: 'x' });
  for (const folder of ['main', 'family', 'work']) prepareGroupDirs(layout, folder);
  chats.touch({ jid: 'web:stranger', name: 'Stranger', channel: 'web', messageAt: 1 });
  const state = new RouterState(layout.statePath);
  const logs: string[] = [];
  const log: Logger = createLogger({ write: (line) => logs.push(line), format: 'json' });
  const files = new GroupFiles(layout);
  const web = new WebChannel({
    messages,
    groups,
    files,
    assistantName: 'Andy',
    statusView: async () => ({}),
  });
  const outbound = new Outbound({ channels: [web], messages, state, assistantName: 'Andy', files, log });
  const snapshots = new Snapshots({ layout, tasks, taskRuns, chats, groups });
  // The web channel, made to fail while `down` is set: a channel outage.
  const channel = { down: false };
  const send = web.sendMessage.bind(web);
  web.sendMessage = async () => {
    if (channel.down) throw new Error('the web channel is down');
    return send();
  };
  const watcher = new IpcWatcher(
    layout,
    ipcFileHandler({
      layout,
      timezone: 'UTC',
      tasks,
      groups,
      deliver: (jid, text) => outbound.deliver(jid, text, null),
      deliverFile: (jid, file, caption, folder) => outbound.deliverFile(jid, file, caption, folder),
      files,
      changed: () => snapshots.writeAll(),
      now: () => Date.parse('2026-01-01T00:00:00Z'),
      log,
    }),
    log,
    { retry: { attempts: 4, baseMs: 20, maxMs: 200 } },
  );
  watcher.start();
  return { layout, messages, tasks, groups, watcher, logs, snapshots, channel };
}

let sequence = 0;
/** Writes a request as an agent does: a temp file, renamed into place. */
function request(folder: string, kind: 'messages' | 'tasks', body: unknown): string {
  const dir = join(world.layout.ipcDir(folder), kind);
  const name = `${Date.now()}-${String(sequence++).padStart(4, '0')}.json`;
  writeFileSync(join(dir, `${name}.tmp`), typeof body === 'string' ? body : JSON.stringify(body));
  renameSync(join(dir, `${name}.tmp`), join(dir, name));
  return join(dir, name);
}

/** Waits until the watcher has handled every request file (it deletes each one). */
async function handled(): Promise<void> {
  const pending = () =>
    ['main', 'family', 'work'].some((folder) =>
      ['messages', 'tasks'].some((kind) =>
        readdirSync(join(world.layout.ipcDir(folder), kind)).some((name) => name.endsWith('.json')),
      ),
    );
  for (let i = 0; i < 200 && pending(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await world.watcher.idle();
}

/** The host's answer to a request file (responses/{id}.result.json), once there is one. */
function answerTo(path: string): Record<string, unknown> | undefined {
  const folder = path.split('/').at(-3) as string;
  const file = join(
    world.layout.ipcDir(folder),
    'responses',
    `${path
      .split('/')
      .at(-1)
      ?.replace(/\.json$/, '')}.result.json`,
  );
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** Calls one of the agent's MCP tools as group `folder`'s agent would, on the group's IPC dir. */
async function callTool(folder: string, name: string, args: Record<string, unknown>) {
  const tools = nanoclawTools({
    ipcDir: world.layout.ipcDir(folder),
    chatJid: `web:${folder}`,
    isMain: folder === 'main',
    groupDir: world.layout.groupDir(folder),
    replyTimeoutMs: 10_000,
  });
  const found = tools.find((tool) => tool.name === name);
  if (found === undefined) throw new Error(`no tool ${name}`);
  const result = await found.handler(args as never, {});
  const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
  return { text, isError: result.isError === true };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

/** What the host set aside for a group: file name -> content. */
function setAside(folder: string): Record<string, string> {
  const dir = world.layout.ipcErrorsDir(folder);
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

const sent = (jid: string) => world.messages.recent(jid, 50).map((message) => message.text);
const refusals = () =>
  world.logs.filter((line) => line.includes('IPC request refused')).map((line) => JSON.parse(line));

beforeEach(async () => {
  home = await tempHome();
  world = await setUp();
});
afterEach(async () => {
  await world.watcher.stop();
  await home.remove();
});

describe('IPC messages', () => {
  it('lets a group message its own chat, and refuses another chat whatever the file claims', async () => {
    request('family', 'messages', { type: 'message', chatJid: 'web:family', text: 'hello family' });
    request('family', 'messages', {
      type: 'message',
      chatJid: 'web:work',
      text: 'sneaky',
      groupFolder: 'work',
      isMain: true,
    });
    await handled();
    expect(sent('web:family')).toEqual(['hello family']);
    expect(sent('web:work')).toEqual([]);
    expect(refusals()).toMatchObject([
      { group: 'family', type: 'message', reason: 'group family may only message its own chat' },
    ]);
  });

  it('lets main message any registered chat', async () => {
    request('main', 'messages', { type: 'message', chatJid: 'web:work', text: 'from main' });
    await handled();
    expect(sent('web:work')).toEqual(['from main']);
  });

  it('refuses malformed files, naming what is wrong, and deletes them', async () => {
    const file = request('family', 'messages', '{ not json');
    request('family', 'messages', { type: 'message', chatJid: 'web:family' });
    request('family', 'messages', { type: 'schedule_task', prompt: 'x' });
    await handled();
    expect(existsSync(file)).toBe(false);
    expect(
      world.logs.filter((line) => line.includes('malformed')).map((line) => JSON.parse(line).problem),
    ).toEqual([
      'not JSON',
      'text must be a non-empty string',
      'type must be one of message, file in messages/, got "schedule_task"',
    ]);
  });
});

describe('IPC tasks', () => {
  const schedule = (extra: Record<string, unknown> = {}) => ({
    type: 'schedule_task',
    prompt: 'water the plants',
    schedule_type: 'cron',
    schedule_value: '0 9 * * *',
    ...extra,
  });

  it('schedules for the own group, and refuses scheduling for another group unless main', async () => {
    request('family', 'tasks', schedule());
    request('family', 'tasks', schedule({ targetJid: 'web:work', groupFolder: 'work' }));
    request('main', 'tasks', schedule({ targetJid: 'web:work', prompt: 'standup' }));
    await handled();
    const rows = world.tasks.list().map((task) => [task.groupFolder, task.chatJid, task.prompt]);
    expect(rows.sort()).toEqual([
      ['family', 'web:family', 'water the plants'],
      ['work', 'web:work', 'standup'],
    ]);
    expect(world.tasks.list('family')[0]?.nextRun).toBe(Date.parse('2026-01-01T09:00:00Z'));
    expect(refusals().map((entry) => entry.reason)).toEqual([
      'group family may only schedule tasks for its own chat',
    ]);
  });

  it("refuses managing another group's task, and lets main manage any", async () => {
    request('work', 'tasks', schedule());
    await handled();
    const id = world.tasks.list()[0]?.id as string;
    request('family', 'tasks', { type: 'pause_task', taskId: id });
    request('family', 'tasks', { type: 'cancel_task', taskId: id });
    await handled();
    expect(world.tasks.get(id)?.status).toBe('active');
    request('main', 'tasks', { type: 'pause_task', taskId: id });
    await handled();
    expect(world.tasks.get(id)?.status).toBe('paused');
    request('work', 'tasks', { type: 'resume_task', taskId: id });
    request('work', 'tasks', { type: 'update_task', taskId: id, prompt: 'water them twice' });
    await handled();
    expect(world.tasks.get(id)).toMatchObject({ status: 'active', prompt: 'water them twice' });
    request('work', 'tasks', { type: 'cancel_task', taskId: id });
    await handled();
    expect(world.tasks.get(id)).toBeUndefined();
    expect(refusals().map((entry) => entry.reason)).toEqual([
      'group family may only manage its own tasks',
      'group family may only manage its own tasks',
    ]);
  });

  it('does not create a task with a bad schedule', async () => {
    request('family', 'tasks', schedule({ schedule_type: 'interval', schedule_value: '5' }));
    await handled();
    expect(world.tasks.list()).toEqual([]);
    expect(world.logs.some((line) => line.includes('at least 1000'))).toBe(true);
  });

  it('lets only main register groups, and makes their folders', async () => {
    request('family', 'tasks', {
      type: 'register_group',
      jid: 'web:stranger',
      name: 'S',
      folder: 'stranger',
    });
    await handled();
    expect(world.groups.get('web:stranger')).toBeUndefined();
    request('main', 'tasks', {
      type: 'register_group',
      jid: 'web:stranger',
      name: 'Stranger',
      folder: 'stranger',
    });
    await handled();
    expect(world.groups.get('web:stranger')).toMatchObject({ name: 'Stranger', folder: 'stranger' });
    expect(existsSync(join(world.layout.groupDir('stranger'), 'CLAUDE.md'))).toBe(true);
    expect(existsSync(join(world.layout.ipcDir('stranger'), 'tasks'))).toBe(true);
    expect(refusals().map((entry) => entry.reason)).toEqual(['only the main group may register groups']);
  });

  it('shows each group its own tasks, main all of them and the chats it may register', async () => {
    request('family', 'tasks', schedule());
    request('work', 'tasks', schedule({ prompt: 'standup' }));
    await handled();
    const read = (folder: string, file: string) =>
      JSON.parse(readFileSync(join(world.layout.ipcDir(folder), file), 'utf8'));
    expect(read('family', 'current_tasks.json').map((task: { prompt: string }) => task.prompt)).toEqual([
      'water the plants',
    ]);
    expect(read('main', 'current_tasks.json')).toHaveLength(2);
    expect(read('main', 'current_tasks.json')).toContainEqual(
      expect.objectContaining({
        groupFolder: 'family',
        schedule_type: 'cron',
        status: 'active',
        next_run: '2026-01-01T09:00:00.000Z',
        recent_runs: [],
      }),
    );
    expect(read('main', 'available_groups.json')).toContainEqual({
      jid: 'web:stranger',
      name: 'Stranger',
      folder: null,
      registered: false,
      last_message_at: '1970-01-01T00:00:00.001Z',
    });
    expect(existsSync(join(world.layout.ipcDir('family'), 'available_groups.json'))).toBe(false);
  });
});

describe('IPC requests that fail or are refused (issue 15: nothing lost)', () => {
  it('keeps a message the channel could not take, tries again, and sends it once the channel is back', async () => {
    world.channel.down = true;
    const file = request('family', 'messages', {
      type: 'message',
      chatJid: 'web:family',
      text: 'still there?',
    });
    await until(() => answerTo(file)?.status === 'retrying');
    expect(existsSync(file)).toBe(true);
    expect(answerTo(file)).toEqual({ status: 'retrying', reason: 'the web channel is down' });
    // A later message waits its turn behind the one being retried.
    const later = request('family', 'messages', { type: 'message', chatJid: 'web:family', text: 'and this' });
    world.channel.down = false;
    await handled();
    expect(sent('web:family')).toEqual(['still there?', 'and this']);
    expect(answerTo(file)).toEqual({ status: 'accepted' });
    expect(answerTo(later)).toEqual({ status: 'accepted' });
    expect(setAside('family')).toEqual({});
    const attempts = world.logs
      .filter((line) => line.includes('kept to try again'))
      .map((line) => JSON.parse(line));
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts[0]).toMatchObject({ group: 'family', attempt: 1, attempts: 4 });
  });

  it('sets a message aside with why after its last attempt, never dropping it', async () => {
    world.channel.down = true;
    const file = request('family', 'messages', { type: 'message', chatJid: 'web:family', text: 'lost?' });
    await handled();
    expect(existsSync(file)).toBe(false);
    const name = `messages-${file.split('/').at(-1)}`;
    expect(setAside('family')).toEqual({
      [name]: JSON.stringify({ type: 'message', chatJid: 'web:family', text: 'lost?' }),
      [`${name}.reason.txt`]: 'the web channel is down (4 attempts)\n',
    });
    expect(answerTo(file)).toEqual({ status: 'failed', reason: 'the web channel is down (4 attempts)' });
    expect(sent('web:family')).toEqual([]);
  });

  it("sets a refused request aside at once, and the agent's tool tells the model it was refused and why", async () => {
    request('work', 'tasks', {
      type: 'schedule_task',
      prompt: 'standup',
      schedule_type: 'cron',
      schedule_value: '0 9 * * 1-5',
    });
    await handled();
    const id = world.tasks.list()[0]?.id as string;
    expect(await callTool('family', 'pause_task', { task_id: id })).toEqual({
      text: 'The host refused this request: group family may only manage its own tasks',
      isError: true,
    });
    expect(world.tasks.get(id)?.status).toBe('active');
    const kept = setAside('family');
    const reasonFile = Object.keys(kept).find((name) => name.endsWith('.reason.txt')) as string;
    expect(kept[reasonFile]).toBe('group family may only manage its own tasks\n');
    expect(JSON.parse(kept[reasonFile.replace(/\.reason\.txt$/, '')] as string)).toEqual({
      type: 'pause_task',
      taskId: id,
    });
    // Its own task: accepted, and the tool says so, with the new task's id.
    const { text } = await callTool('work', 'schedule_task', {
      prompt: 'retro',
      schedule_type: 'once',
      schedule_value: '2026-01-02 10:00',
    });
    const newId = world.tasks.list('work').find((task) => task.prompt === 'retro')?.id;
    expect(text).toBe(`Scheduled task ${newId}: once 2026-01-02 10:00.`);
  });

  it('refuses a request file that is a link, without reading or removing what it points to', async () => {
    const outside = join(home.path, 'host-secret.json');
    writeFileSync(outside, JSON.stringify({ type: 'message', chatJid: 'web:family', text: 'secret' }));
    const link = join(world.layout.ipcDir('family'), 'messages', '1-link.json');
    symlinkSync(outside, link);
    // A request dir swapped for a link to another group's: not followed either.
    const workMessages = join(world.layout.ipcDir('work'), 'messages');
    const familyTasks = join(world.layout.ipcDir('family'), 'tasks');
    rmSync(familyTasks, { recursive: true });
    symlinkSync(workMessages, familyTasks);
    const other = request('work', 'messages', { type: 'message', chatJid: 'web:work', text: 'from work' });
    world.watcher.scan('family');
    await handled();
    expect(existsSync(link)).toBe(false);
    expect(readFileSync(outside, 'utf8')).toContain('secret');
    expect(sent('web:family')).toEqual([]);
    expect(Object.values(setAside('family'))).toContain('1-link.json is a link, not a file\n');
    expect(existsSync(other)).toBe(false);
    expect(sent('web:work')).toEqual(['from work']);
    expect(setAside('work')).toEqual({});
    rmSync(familyTasks);
    mkdirSync(familyTasks);
  });
});

describe('schedules: the host takes exactly what the agent takes (one table, both sides)', () => {
  it.each(SCHEDULE_CASES)('$type "$value" (refusal: $refusal)', async ({ type, value, refusal }) => {
    const file = request('family', 'tasks', {
      type: 'schedule_task',
      prompt: 'x',
      schedule_type: type,
      schedule_value: value,
    });
    await handled();
    const answer = answerTo(file);
    if (refusal === null) {
      expect(answer).toMatchObject({ status: 'accepted', taskId: expect.any(String) });
      expect(world.tasks.list('family')).toHaveLength(1);
    } else {
      expect(answer).toMatchObject({ status: 'refused', reason: expect.stringContaining(refusal) });
      expect(world.tasks.list('family')).toEqual([]);
    }
  });
});
