/** API tokens in the database: their reach is stored, and tokens made before reach existed reach everything. */
import { expect, test } from 'vitest';
import { Database, migrate, openDatabase } from './database.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { createToken, findToken, listTokens } from './tokens.ts';

const REACH_MIGRATION = 5;

test('a token keeps the tenants and workloads it is limited to; null is every one', () => {
  const db = openDatabase(':memory:');
  const limited = createToken(db, {
    name: 'alice front end',
    scopes: ['tenants:claim'],
    tenants: ['alice', 'alice@example.com'],
    workloads: ['nanoclaw'],
    expiresAt: null,
    now: 1,
  });
  const open = createToken(db, { name: 'ci', scopes: ['read'], expiresAt: null, now: 2 });
  expect(findToken(db, limited.record.id)?.record).toMatchObject({
    tenants: ['alice', 'alice@example.com'],
    workloads: ['nanoclaw'],
  });
  expect(listTokens(db).map(({ id, tenants, workloads }) => ({ id, tenants, workloads }))).toEqual([
    { id: limited.record.id, tenants: ['alice', 'alice@example.com'], workloads: ['nanoclaw'] },
    { id: open.record.id, tenants: null, workloads: null },
  ]);
  db.close();
});

test('an empty limit is refused by the table itself (it would reach nothing, or be read as everything)', () => {
  const db = openDatabase(':memory:');
  expect(() =>
    createToken(db, { name: 'x', scopes: ['read'], tenants: [], expiresAt: null, now: 1 }),
  ).toThrow(/CHECK constraint failed/);
  db.close();
});

test('tokens made before the reach migration reach every tenant and workload after it', () => {
  const db = new Database(':memory:');
  for (const sql of MIGRATIONS.slice(0, REACH_MIGRATION - 1)) db.exec(sql);
  db.exec(`PRAGMA user_version = ${REACH_MIGRATION - 1}`);
  db.prepare(
    `INSERT INTO api_tokens (id, name, scopes, secret_hash, created_at) VALUES ('0123456789ab', 'old', '["read"]', ?, 1)`,
  ).run(Buffer.alloc(32));
  migrate(db);
  expect(findToken(db, '0123456789ab')?.record).toMatchObject({
    name: 'old',
    tenants: null,
    workloads: null,
  });
  db.close();
});
