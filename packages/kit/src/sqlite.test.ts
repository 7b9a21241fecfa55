import { DatabaseSync } from 'node:sqlite';
import { expect, test } from 'vitest';
import { configureDatabase, inTransaction, type MigrationSet, migrate } from './sqlite.ts';

const SET: MigrationSet = {
  migrations: ['CREATE TABLE a (x INTEGER)', 'ALTER TABLE a ADD COLUMN y TEXT'],
  database: 'test.db',
  program: 'Tester',
};

const version = (db: DatabaseSync) =>
  (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;

test('migrations run once each, in order, and a second run changes nothing', () => {
  const db = new DatabaseSync(':memory:');
  configureDatabase(db);
  migrate(db, { ...SET, migrations: SET.migrations.slice(0, 1) });
  expect(version(db)).toBe(1);
  migrate(db, SET);
  migrate(db, SET);
  expect(version(db)).toBe(2);
  db.exec("INSERT INTO a (x, y) VALUES (1, 'one')");
  expect(db.prepare('SELECT x, y FROM a').all()).toEqual([{ x: 1, y: 'one' }]);
});

test('a failed migration leaves the database at the version before it', () => {
  const db = new DatabaseSync(':memory:');
  expect(() => migrate(db, { ...SET, migrations: [SET.migrations[0] as string, 'NOT SQL'] })).toThrow();
  expect(version(db)).toBe(1);
});

test('a database from a newer program is refused, not touched', () => {
  const db = new DatabaseSync(':memory:');
  db.exec('PRAGMA user_version = 3');
  expect(() => migrate(db, SET)).toThrow(
    'test.db is at schema version 3, newer than this Tester knows (2); upgrade Tester',
  );
  expect(version(db)).toBe(3);
});

test('a transaction that throws writes nothing', () => {
  const db = new DatabaseSync(':memory:');
  migrate(db, SET);
  expect(() =>
    inTransaction(db, () => {
      db.exec('INSERT INTO a (x) VALUES (1)');
      throw new Error('no');
    }),
  ).toThrow('no');
  expect(db.prepare('SELECT count(*) AS n FROM a').get()).toEqual({ n: 0 });
  expect(inTransaction(db, () => 'done')).toBe('done');
});
