import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../testing/temp-home.ts';
import { ChatStore } from './chats.ts';
import { openDatabase } from './database.ts';
import { GroupRegistry } from './groups.ts';
import { MessageStore } from './messages.ts';
import { RouterState } from './router-state.ts';
import { TaskRunStore } from './task-runs.ts';
import { TaskStore } from './tasks.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
beforeEach(async () => {
  home = await tempHome();
});
afterEach(() => home.remove());

const inbound = (id: string, text: string, chatJid = 'web:main') => ({
  id,
  chatJid,
  sender: 'web:bob',
  senderName: 'Bob',
  text,
  timestamp: 1_700_000_000_000,
});

describe('MessageStore', () => {
  it('gives each message a strictly increasing received_at, even within one millisecond', () => {
    const store = new MessageStore(openDatabase(':memory:'), () => 1000);
    const a = store.storeInbound(inbound('a', 'one'));
    const b = store.storeInbound(inbound('b', 'two'));
    expect(a?.receivedAt).toBe(1000);
    expect(b?.receivedAt).toBe(1001);
  });

  it('stores a channel message id once per chat', () => {
    const store = new MessageStore(openDatabase(':memory:'));
    expect(store.storeInbound(inbound('same', 'one'))).toBeDefined();
    expect(store.storeInbound(inbound('same', 'again'))).toBeUndefined();
    expect(store.storeInbound(inbound('same', 'other chat', 'web:family'))).toBeDefined();
  });

  it('lists inbound messages after a cursor, and how far replies answered', () => {
    const store = new MessageStore(openDatabase(':memory:'));
    const first = store.storeInbound(inbound('1', 'one'));
    store.storeInbound(inbound('2', 'two'));
    store.storeReply('web:main', 'Andy', 'reply', first?.receivedAt ?? 0);
    expect(store.inboundSince('web:main', first?.receivedAt ?? 0).map((m) => m.text)).toEqual(['two']);
    expect(store.repliedUpTo('web:main')).toBe(first?.receivedAt);
    expect(store.recent('web:main', 10).map((m) => m.fromAssistant)).toEqual([false, false, true]);
  });

  it('tells listeners about every stored message', () => {
    const store = new MessageStore(openDatabase(':memory:'));
    const seen: string[] = [];
    store.onStored((message) => seen.push(message.text));
    store.storeInbound(inbound('1', 'in'));
    store.storeReply('web:main', 'Andy', 'out', null);
    expect(seen).toEqual(['in', 'out']);
  });
});

describe('ChatStore', () => {
  it('keeps the newest activity and a name once known', () => {
    const chats = new ChatStore(openDatabase(':memory:'));
    chats.touch({ jid: 'x@g.us', name: 'Family', channel: 'whatsapp', messageAt: 5 });
    chats.touch({ jid: 'x@g.us', name: '', channel: 'whatsapp', messageAt: 3 });
    expect(chats.list()).toEqual([{ jid: 'x@g.us', name: 'Family', channel: 'whatsapp', lastMessageAt: 5 }]);
  });
});

describe('RouterState (data/state.json)', () => {
  it('persists cursors and sessions atomically, and never moves a cursor back', () => {
    const path = join(home.path, 'state.json');
    const state = new RouterState(path);
    state.advanceCursor('web:main', 10);
    state.advanceCursor('web:main', 5);
    state.setSession('main', 'session-1');
    const again = new RouterState(path);
    expect(again.cursor('web:main')).toBe(10);
    expect(again.session('main')).toBe('session-1');
    expect(readdirSync(home.path)).toEqual(['state.json']);
  });

  it('archives a session on /clear', () => {
    const path = join(home.path, 'state.json');
    const state = new RouterState(path);
    state.setSession('main', 'session-1');
    expect(state.archiveSession('main', new Date(0))).toBe('session-1');
    expect(state.session('main')).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8')).archivedSessions).toEqual([
      { folder: 'main', sessionId: 'session-1', archivedAt: '1970-01-01T00:00:00.000Z' },
    ]);
  });

  it('names the file and field of a damaged state file', () => {
    const path = join(home.path, 'state.json');
    writeFileSync(path, '{"cursors": {"web:main": "soon"}}');
    expect(() => new RouterState(path)).toThrow(`${path}: cursors["web:main"] must be a number`);
    writeFileSync(path, '{');
    expect(() => new RouterState(path)).toThrow(`${path} is not valid JSON`);
  });
});

describe('GroupRegistry (data/registered_groups.json)', () => {
  it('registers and unregisters, refusing a folder used twice or a bad name', () => {
    const path = join(home.path, 'groups.json');
    const groups = new GroupRegistry(path);
    groups.register('web:main', { name: 'Main', folder: 'main', addedAt: 'now' });
    expect(() => groups.register('x@g.us', { name: 'X', folder: 'main', addedAt: 'now' })).toThrow(
      'cannot register x@g.us: folder "main" is already used by web:main',
    );
    expect(() => groups.register('y@g.us', { name: 'Y', folder: '../etc', addedAt: 'now' })).toThrow(
      'folder must be lowercase letters',
    );
    expect(new GroupRegistry(path).jidOf('main')).toBe('web:main');
    expect(groups.unregister('web:main')).toBe(true);
    expect(new GroupRegistry(path).entries()).toEqual([]);
  });

  it('names the entry of a hand-edited file that is wrong', () => {
    const path = join(home.path, 'groups.json');
    writeFileSync(path, JSON.stringify({ 'a@g.us': { name: 'A', folder: 'Has Spaces', addedAt: 'x' } }));
    expect(() => new GroupRegistry(path)).toThrow(`${path}: "a@g.us": folder must be lowercase letters`);
  });
});

describe('TaskRunStore', () => {
  const task = (tasks: TaskStore, nextRun: number) =>
    tasks.create({
      id: 'task-1',
      groupFolder: 'main',
      chatJid: 'web:main',
      prompt: 'p',
      scheduleType: 'interval',
      scheduleValue: '60000',
      contextMode: 'isolated',
      status: 'active',
      nextRun,
      createdAt: 0,
    });

  it('lets one claim of a due time win, also across two processes on one database', () => {
    const path = join(home.path, 'messages.db');
    const first = openDatabase(path);
    const second = openDatabase(path);
    task(new TaskStore(first), 1000);
    const claim = { taskId: 'task-1', scheduledFor: 1000, nextRun: 61_000, now: 1500 };
    expect(new TaskRunStore(first).claim(claim)).toBeTypeOf('number');
    expect(new TaskRunStore(second).claim(claim)).toBeUndefined();
    expect(new TaskStore(second).get('task-1')?.nextRun).toBe(61_000);
    first.close();
    second.close();
  });

  it('completes a one-off on claim, logs the outcome, and marks runs a crash cut off', () => {
    const db = openDatabase(':memory:');
    const tasks = new TaskStore(db);
    const runs = new TaskRunStore(db);
    task(tasks, 1000);
    const id = runs.claim({ taskId: 'task-1', scheduledFor: 1000, nextRun: null, now: 1000 }) as number;
    expect(tasks.get('task-1')?.status).toBe('completed');
    runs.finish(id, { status: 'success', result: 'done', error: null, durationMs: 42 });
    expect(tasks.get('task-1')).toMatchObject({ lastRun: 1000, lastResult: 'done' });
    tasks.update('task-1', { status: 'active', nextRun: 2000 });
    runs.claim({ taskId: 'task-1', scheduledFor: 2000, nextRun: 3000, now: 2000 });
    expect(runs.markInterrupted()).toBe(1);
    expect(runs.recent('task-1', 5).map((run) => run.status)).toEqual(['interrupted', 'success']);
  });
});
