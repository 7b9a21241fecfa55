import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { openDatabase } from './database.ts';
import { deleteSecrets, getSecrets, listSecretNames, putSecrets, type SealedSecrets } from './secrets.ts';

const sealed = (keys: string[]): SealedSecrets => ({
  keys,
  keyId: 'k1',
  nonce: randomBytes(12),
  tag: randomBytes(16),
  ciphertext: randomBytes(40),
});

test('a put replaces the set for its tenant and workload only, and blobs come back byte for byte', () => {
  const db = openDatabase(':memory:');
  const first = sealed(['A']);
  putSecrets(db, 'alice', 'echo', first, 1);
  putSecrets(db, 'alice', 'nanoclaw', sealed(['B', 'C']), 2);
  putSecrets(db, 'bob', 'echo', sealed(['D']), 3);
  expect(getSecrets(db, 'alice', 'echo')).toEqual({
    tenant: 'alice',
    workload: 'echo',
    updatedAt: 1,
    ...first,
  });

  const second = sealed(['E']);
  putSecrets(db, 'alice', 'echo', second, 4);
  expect(getSecrets(db, 'alice', 'echo')).toEqual({
    tenant: 'alice',
    workload: 'echo',
    updatedAt: 4,
    ...second,
  });
  expect(listSecretNames(db, 'alice')).toEqual([
    { workload: 'echo', keys: ['E'], updatedAt: 4 },
    { workload: 'nanoclaw', keys: ['B', 'C'], updatedAt: 2 },
  ]);
  expect(listSecretNames(db, 'carol')).toEqual([]);
});

test('a delete removes one set and says whether there was one', () => {
  const db = openDatabase(':memory:');
  putSecrets(db, 'alice', 'echo', sealed(['A']), 1);
  putSecrets(db, 'bob', 'echo', sealed(['A']), 1);
  expect(deleteSecrets(db, 'alice', 'echo')).toBe(true);
  expect(deleteSecrets(db, 'alice', 'echo')).toBe(false);
  expect(getSecrets(db, 'alice', 'echo')).toBeUndefined();
  expect(getSecrets(db, 'bob', 'echo')?.keys).toEqual(['A']);
});

test('the schema refuses a nonce or tag of the wrong length', () => {
  const db = openDatabase(':memory:');
  expect(() => putSecrets(db, 'alice', 'echo', { ...sealed(['A']), nonce: randomBytes(8) }, 1)).toThrow(
    /CHECK constraint/,
  );
  expect(() => putSecrets(db, 'alice', 'echo', { ...sealed(['A']), tag: randomBytes(12) }, 1)).toThrow(
    /CHECK constraint/,
  );
});
