/**
 * The host writes and empties the agent's input/ without following what the agent put there: the
 * folder is the tenant's, so a link in it is an attack on the host's own files.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempHome } from '../testing/temp-home.ts';
import { clearInput, writeClose, writeFollowUp } from './input-dir.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let ipc: string;
let hostFiles: string;

beforeEach(async () => {
  home = await tempHome();
  ipc = join(home.path, 'ipc');
  hostFiles = join(home.path, 'store');
  mkdirSync(join(ipc, 'input'), { recursive: true });
  mkdirSync(hostFiles);
  writeFileSync(join(hostFiles, 'messages.db'), 'the host database');
});
afterEach(async () => {
  await home.remove();
});

it('writes follow-ups and _close, and empties the folder before a run', () => {
  writeFollowUp(ipc, 'hello');
  writeClose(ipc);
  const names = readdirSync(join(ipc, 'input')).sort();
  expect(names).toHaveLength(2);
  expect(names[1]).toBe('_close');
  expect(JSON.parse(readFileSync(join(ipc, 'input', names[0] as string), 'utf8'))).toEqual({
    type: 'message',
    text: 'hello',
  });
  clearInput(ipc);
  expect(readdirSync(join(ipc, 'input'))).toEqual([]);
});

it('never writes through a link the agent put where the temporary _close goes', () => {
  symlinkSync(join(hostFiles, 'messages.db'), join(ipc, 'input', '_close.tmp'));
  writeClose(ipc);
  expect(readFileSync(join(hostFiles, 'messages.db'), 'utf8')).toBe('the host database');
  expect(existsSync(join(ipc, 'input', '_close'))).toBe(true);
});

it('refuses an input folder swapped for a link, emptying nothing it points to', () => {
  rmSync(join(ipc, 'input'), { recursive: true });
  symlinkSync(hostFiles, join(ipc, 'input'));
  expect(() => clearInput(ipc)).toThrow();
  expect(() => writeClose(ipc)).toThrow();
  expect(readdirSync(hostFiles)).toEqual(['messages.db']);
});

it('names follow-ups written in the same millisecond in the order they were written', () => {
  const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
  for (const text of texts) writeFollowUp(ipc, text);
  const names = readdirSync(join(ipc, 'input')).sort();
  const read = names.map((name) => JSON.parse(readFileSync(join(ipc, 'input', name), 'utf8')).text);
  expect(read).toEqual(texts);
});
