import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ipcFileName, readJsonFile, writeIpcFile } from './ipc-files.ts';

test('names sort in the order they were made, even many in one millisecond', () => {
  const names = Array.from({ length: 500 }, () => ipcFileName());
  expect([...names].sort()).toEqual(names);
  expect(new Set(names).size).toBe(names.length);
  expect(names[0]).toMatch(/^\d{13}-[0-9a-f]{8}\.json$/);
});

test('a written file is whole JSON under its final name, with no temp file left', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'nanoclaw-ipc-')), 'tasks');
  try {
    const name = await writeIpcFile(dir, { type: 'pause_task', taskId: 'task-1' });
    expect(await readdir(dir)).toEqual([name]);
    expect(JSON.parse(await readFile(join(dir, name), 'utf8'))).toEqual({
      type: 'pause_task',
      taskId: 'task-1',
    });
    expect(await readJsonFile(join(dir, 'missing.json'))).toBeUndefined();
    await expect(readJsonFile(join(dir, '..'))).rejects.toThrow(/EISDIR/);
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
});
