import { expect, test } from 'vitest';
import { IPC_KINDS, kindOf, parseRequest, REQUEST_TYPES, type RequestFile } from './ipc-requests.ts';

/** One request of each type, as the tools write them. */
const written: RequestFile[] = [
  { type: 'message', chatJid: 'web:main', text: 'hi' },
  { type: 'file', chatJid: 'web:main', path: 'out/a.png', caption: 'look' },
  { type: 'schedule_task', prompt: 'p', schedule_type: 'interval', schedule_value: 60_000 },
  { type: 'update_task', taskId: 't1', schedule_type: 'cron', schedule_value: '0 9 * * 1' },
  { type: 'pause_task', taskId: 't1' },
  { type: 'resume_task', taskId: 't1' },
  { type: 'cancel_task', taskId: 't1' },
  { type: 'register_group', jid: 'tg:1', name: 'Family', folder: 'family', trigger: '@Andy' },
];

test('every request type has one folder, and each request written there reads back', () => {
  const types = IPC_KINDS.flatMap((kind) => REQUEST_TYPES[kind]);
  expect(new Set(types).size).toBe(types.length);
  expect(written.map((request) => request.type).sort()).toEqual([...types].sort());
  for (const request of written) {
    const parsed = parseRequest(JSON.stringify(request), kindOf(request.type));
    expect(typeof parsed, JSON.stringify(parsed)).toBe('object');
  }
});

test('the defaults are filled in and a number of milliseconds reads as its text', () => {
  expect(parseRequest(JSON.stringify(written[2]), 'tasks')).toEqual({
    type: 'schedule_task',
    prompt: 'p',
    scheduleType: 'interval',
    scheduleValue: '60000',
    contextMode: 'isolated',
    targetJid: undefined,
  });
});

test('a request in the wrong folder, or missing what it needs, is refused naming what is wrong', () => {
  expect(parseRequest(JSON.stringify(written[0]), 'tasks')).toBe(
    'type must be one of schedule_task, update_task, pause_task, resume_task, cancel_task, register_group in tasks/, got "message"',
  );
  expect(parseRequest('{"type":"message","chatJid":"web:main","text":"  "}', 'messages')).toBe(
    'text must be a non-empty string',
  );
  expect(parseRequest('{"type":"update_task","taskId":"t","schedule_type":"once"}', 'tasks')).toBe(
    'schedule_type and schedule_value go together',
  );
  expect(
    parseRequest('{"type":"schedule_task","prompt":"p","schedule_type":"x","schedule_value":"1"}', 'tasks'),
  ).toBe('schedule_type must be cron, interval or once');
  expect(parseRequest('[1]', 'messages')).toBe('not a JSON object');
});
