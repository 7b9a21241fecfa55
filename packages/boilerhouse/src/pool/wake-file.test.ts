/**
 * The wake file is the tenant's: what it may put there (a link out, a FIFO, a huge file, garbage) is
 * refused with its reason and never read through.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { parseRfc3339, readWakeFile } from './wake-file.ts';

const run = promisify(execFile);
let root: string;
let state: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wake-file-'));
  state = join(root, 'state');
  await mkdir(state);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

test('an RFC 3339 time is read, with an offset, fractions, and the space and newline around it', async () => {
  await mkdir(join(state, 'run'));
  await writeFile(join(state, 'run', 'wake-at'), ' 2030-01-02T03:04:05.678+01:00\n');
  expect(await readWakeFile(state, 'run/wake-at')).toEqual({
    kind: 'at',
    at: Date.parse('2030-01-02T02:04:05.678Z'),
  });
});

test('a missing file, or a missing directory on its path, is no wake', async () => {
  expect(await readWakeFile(state, 'wake-at')).toEqual({ kind: 'absent' });
  expect(await readWakeFile(state, 'run/wake-at')).toEqual({ kind: 'absent' });
});

test('a link to a readable time outside the volume is refused, not followed', async () => {
  await writeFile(join(root, 'outside'), '2030-01-01T00:00:00Z');
  await symlink(join(root, 'outside'), join(state, 'wake-at'));
  const file = await readWakeFile(state, 'wake-at');
  expect(file).toEqual({ kind: 'refused', reason: expect.stringContaining('symbolic link') });
});

test('a link to /etc/shadow is refused', async () => {
  await symlink('/etc/shadow', join(state, 'wake-at'));
  expect(await readWakeFile(state, 'wake-at')).toMatchObject({ kind: 'refused' });
});

test('a directory on the path swapped for a link out is refused', async () => {
  await mkdir(join(root, 'elsewhere'));
  await writeFile(join(root, 'elsewhere', 'wake-at'), '2030-01-01T00:00:00Z');
  await symlink(join(root, 'elsewhere'), join(state, 'run'));
  expect(await readWakeFile(state, 'run/wake-at')).toEqual({
    kind: 'refused',
    reason: expect.stringContaining('symbolic link'),
  });
});

test('a FIFO is refused without waiting for a writer', async () => {
  await run('mkfifo', [join(state, 'wake-at')]);
  expect(await readWakeFile(state, 'wake-at')).toEqual({
    kind: 'refused',
    reason: expect.stringContaining('not a regular file'),
  });
});

test('a 10 MiB file is refused without being read', async () => {
  await writeFile(join(state, 'wake-at'), '');
  await truncate(join(state, 'wake-at'), 10 * 1024 * 1024);
  expect(await readWakeFile(state, 'wake-at')).toEqual({
    kind: 'refused',
    reason: expect.stringContaining('10485760 bytes'),
  });
});

test('a directory where the file should be is refused', async () => {
  await mkdir(join(state, 'wake-at'));
  expect(await readWakeFile(state, 'wake-at')).toMatchObject({ kind: 'refused' });
});

test('garbage is refused and shown shortened', async () => {
  await writeFile(join(state, 'wake-at'), `tomorrow, ${'x'.repeat(100)}`);
  const file = await readWakeFile(state, 'wake-at');
  expect(file).toEqual({ kind: 'refused', reason: expect.stringContaining('is not an RFC 3339 time') });
  expect(file.kind === 'refused' && file.reason.length).toBeLessThan(120);
});

test.each([
  '2030-02-30T00:00:00Z',
  '2030-13-01T00:00:00Z',
  '2030-01-01T24:00:00Z',
  '2030-01-01T00:00:60Z',
  '2030-01-01T00:00:00',
  '2030-01-01',
  '1893456000',
  '2030-01-01T00:00:00+25:00',
  '',
])('%j is not an RFC 3339 time', (text) => {
  expect(parseRfc3339(text)).toBeUndefined();
});

test('a leap day and a lower-case t and z are', () => {
  expect(parseRfc3339('2028-02-29t12:00:00z')).toBe(Date.parse('2028-02-29T12:00:00Z'));
  expect(parseRfc3339('2030-06-01 08:30:00-05:30')).toBe(Date.parse('2030-06-01T14:00:00Z'));
});
