import { DatabaseSync } from 'node:sqlite';
import { expect, test } from 'vitest';
import { migrate, openDatabase } from './database.ts';
import { findTenantInstance, insertInstance, takeReadyInstance, transition } from './instances.ts';
import { MIGRATIONS } from './migrations/index.ts';

test('migrations bring a new database to the latest version, once', () => {
  const db = openDatabase(':memory:');
  expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length });
  migrate(db);
  expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length });
});

test('a database from a newer Boilerhouse is refused, not damaged', () => {
  const db = new DatabaseSync(':memory:');
  db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
  expect(() => migrate(db)).toThrow(/newer than this Boilerhouse knows/);
});

test('transitions are conditional: only one of two racing claims wins an instance', () => {
  const db = openDatabase(':memory:');
  insertInstance(db, { id: 'a', workload: 'echo', specHash: 'v1', phase: 'ready', now: 1 });
  expect(takeReadyInstance(db, 'echo', 'v1', 'alice', 2)?.id).toBe('a');
  expect(takeReadyInstance(db, 'echo', 'v1', 'bob', 2)).toBeUndefined();
  expect(transition(db, 'a', 'ready', 'claimed', 3)).toBeUndefined();
  expect(transition(db, 'a', 'claiming', 'claimed', 3)?.phase).toBe('claimed');
  expect(findTenantInstance(db, 'echo', 'alice')?.id).toBe('a');
});

test('the database refuses a second live instance for one tenant', () => {
  const db = openDatabase(':memory:');
  insertInstance(db, {
    id: 'a',
    workload: 'echo',
    specHash: 'v1',
    phase: 'claimed',
    tenant: 'alice',
    now: 1,
  });
  expect(() =>
    insertInstance(db, {
      id: 'b',
      workload: 'echo',
      specHash: 'v1',
      phase: 'claiming',
      tenant: 'alice',
      now: 1,
    }),
  ).toThrow(/UNIQUE/);
  // Another workload, or the same tenant after the first is being destroyed, is fine.
  insertInstance(db, {
    id: 'c',
    workload: 'other',
    specHash: 'v1',
    phase: 'claimed',
    tenant: 'alice',
    now: 1,
  });
  transition(db, 'a', 'claimed', 'destroying', 2);
  insertInstance(db, {
    id: 'd',
    workload: 'echo',
    specHash: 'v1',
    phase: 'claiming',
    tenant: 'alice',
    now: 2,
  });
});
