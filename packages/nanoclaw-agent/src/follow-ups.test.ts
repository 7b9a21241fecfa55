import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type FollowUpWatcher, watchFollowUps } from './follow-ups.ts';
import { ipcFileName } from './ipc-files.ts';
import { CLOSE_FILE, formatFollowUp, parseFollowUp } from './ipc-input.ts';

let inputDir: string;
let watcher: FollowUpWatcher | undefined;
let events: string[];
let logs: string[];

beforeEach(async () => {
  inputDir = join(await mkdtemp(join(tmpdir(), 'nanoclaw-follow-ups-')), 'input');
  events = [];
  logs = [];
});

afterEach(async () => {
  watcher?.stop();
  await rm(join(inputDir, '..'), { recursive: true, force: true });
});

async function writeAtomically(name: string, content: string): Promise<void> {
  await mkdir(inputDir, { recursive: true });
  await writeFile(join(inputDir, `${name}.tmp`), content);
  await rename(join(inputDir, `${name}.tmp`), join(inputDir, name));
}

function message(text: string): string {
  return JSON.stringify({ type: 'message', text });
}

async function start(idleTimeoutMs = 60_000): Promise<FollowUpWatcher> {
  watcher = await watchFollowUps({
    inputDir,
    idleTimeoutMs,
    // A long poll: these tests see the file-event path; the poll is only a fallback.
    pollMs: 10_000,
    onMessage: (turn) => events.push(`message:${turn.text}`),
    onClose: (reason) => events.push(`close:${reason}`),
    log: (line) => logs.push(line),
  });
  return watcher;
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 10) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events)}`);
}

test('a follow-up file is delivered once and deleted', async () => {
  await start();
  await writeAtomically(ipcFileName(), message('second question'));
  await until(() => events.length === 1, 'the follow-up');
  expect(events).toEqual(['message:second question']);
  expect(await readdir(inputDir)).toEqual([]);
});

test('files already waiting at start are delivered in name order, messages before _close', async () => {
  await writeAtomically(CLOSE_FILE, '');
  await writeAtomically('2000-0000aaaa.json', message('two'));
  await writeAtomically('1000-0000aaaa.json', message('one'));
  await start();
  expect(events).toEqual(['message:one', 'message:two', 'close:close']);
  expect(await readdir(inputDir)).toEqual([]);
});

test('a file that is not a follow-up is logged, deleted, and does not stop the others', async () => {
  await start();
  await writeAtomically('1000-0000aaaa.json', '{"type":"message"');
  await writeAtomically('2000-0000aaaa.json', JSON.stringify({ type: 'note', text: 'x' }));
  await writeAtomically('3000-0000aaaa.json', message('still here'));
  await until(() => events.length === 1 && logs.length === 2, 'the good file and two complaints');
  expect(events).toEqual(['message:still here']);
  expect(logs.join('\n')).toMatch(/ignored: not JSON/);
  expect(logs.join('\n')).toMatch(/ignored: expected "type": "message"/);
  expect(await readdir(inputDir)).toEqual([]);
});

test('the idle clock runs only while the agent is idle, and a follow-up stops it', async () => {
  const watch = await start(150);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(events).toEqual([]);
  watch.idle();
  await writeAtomically(ipcFileName(), message('just in time'));
  await until(() => events.length === 1, 'the follow-up');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(events).toEqual(['message:just in time']);
  watch.idle();
  await until(() => events.length === 2, 'the idle close');
  expect(events[1]).toBe('close:idle');
});

test('parseFollowUp names what is wrong with a file', () => {
  expect(parseFollowUp(message('hi'))).toEqual({ text: 'hi', images: [] });
  const images = [{ path: 'files/cat.png', mediaType: 'image/png' }];
  expect(parseFollowUp(JSON.stringify({ type: 'message', text: 'see', images }))).toEqual({
    text: 'see',
    images,
  });
  expect(
    parseFollowUp(
      JSON.stringify({
        type: 'message',
        text: 'see',
        images: [{ path: '../x.png', mediaType: 'image/png' }],
      }),
    ),
  ).toEqual({ error: `images[0].path: expected a path inside the group's folder, got "../x.png"` });
  expect(
    parseFollowUp(
      JSON.stringify({
        type: 'message',
        text: 'see',
        images: [{ path: 'x.svg', mediaType: 'image/svg+xml' }],
      }),
    ),
  ).toEqual({
    error:
      'images[0].mediaType: expected one of image/png, image/jpeg, image/gif, image/webp, got "image/svg+xml"',
  });
  expect(parseFollowUp('{"type":"message","text":""}')).toEqual({
    error: 'expected "text" to be a non-empty string',
  });
});

test('what the host writes with formatFollowUp, parseFollowUp reads back', () => {
  const images = [{ path: 'files/cat.png', mediaType: 'image/png' as const }];
  expect(parseFollowUp(formatFollowUp('see'))).toEqual({ text: 'see', images: [] });
  expect(parseFollowUp(formatFollowUp('see', images))).toEqual({ text: 'see', images });
  expect(JSON.parse(formatFollowUp('see'))).toEqual({ type: 'message', text: 'see' });
});
