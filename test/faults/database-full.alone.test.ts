/**
 * The daemon's database on a full disk: every write fails loudly (SQLITE_FULL), none "succeeds" without
 * being written, and a failed transaction reports the disk, not a failed ROLLBACK. Runs alone: it fills a
 * disk (a small tmpfs of its own).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { type Database, inTransaction, openDatabase } from '../../packages/boilerhouse/src/db/database.ts';
import { insertEvent, listEvents } from '../../packages/boilerhouse/src/db/events.ts';
import {
  getInstance,
  insertInstance,
  listInstances,
  transition,
} from '../../packages/boilerhouse/src/db/instances.ts';
import { mountTmpfs, type Tmpfs } from './testing/tmpfs.ts';

let disk: Tmpfs | undefined;
let db: Database | undefined;
let root: string | undefined;

afterEach(async () => {
  db?.close();
  await disk?.unmount();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

test('on a full disk, inserts, phase changes and events fail instead of pretending', async () => {
  root = await mkdtemp(join(tmpdir(), 'boilerhouse-fault-db-'));
  disk = await mountTmpfs(join(root, 'disk'), 16 * 1024 * 1024);
  db = openDatabase(join(disk.dir, 'boilerhouse.db'));
  const now = Date.now();
  insertInstance(db, { id: 'echo-a', workload: 'echo', specHash: 'h', phase: 'ready', now });
  // Enough rows that the next writes need new pages, then not one byte left.
  for (let i = 0; i < 200; i++) {
    insertEvent(db, { at: now, type: 'instance.ready', message: 'x'.repeat(500) });
  }
  await disk.fill();
  const eventsBefore = listEvents(db, 1000).length;

  let failures = 0;
  const answered: string[] = [];
  for (let i = 0; i < 50; i++) {
    try {
      const row = insertInstance(db, {
        id: `echo-full-${i}`,
        workload: 'echo',
        specHash: 'h',
        phase: 'ready',
        now,
      });
      answered.push(row.id);
      insertEvent(db, { at: now, type: 'instance.ready', message: 'y'.repeat(2000) });
    } catch (error) {
      expect((error as Error).message).toMatch(/full/);
      failures++;
    }
  }
  expect(failures).toBeGreaterThan(0);
  // Every insert that answered with its row wrote it.
  const rows = new Set(listInstances(db).map((instance) => instance.id));
  expect(answered.filter((id) => !rows.has(id))).toEqual([]);
  expect(listEvents(db, 1000).length).toBeGreaterThanOrEqual(eventsBefore);

  // A transaction whose COMMIT cannot be written says the disk is full.
  const current = db;
  expect(() =>
    inTransaction(current, () => {
      for (let i = 0; i < 50; i++)
        insertEvent(current, { at: now, type: 'instance.ready', message: 'z'.repeat(4000) });
      transition(current, 'echo-a', 'ready', 'claiming', now, { tenant: 'alice' });
    }),
  ).toThrow(/full/);
  expect(getInstance(db, 'echo-a')?.phase).toBe('ready');

  await disk.free();
  expect(transition(db, 'echo-a', 'ready', 'claiming', now, { tenant: 'alice' })?.phase).toBe('claiming');
});
