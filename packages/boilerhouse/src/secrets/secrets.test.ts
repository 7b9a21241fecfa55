import { randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type Database, openDatabase } from '../db/database.ts';
import { getSecrets } from '../db/secrets.ts';
import { BadRequestError } from '../errors.ts';
import { SecretsDecryptError } from './cipher.ts';
import { MemoryDirs, mountOf } from './memory-dir.ts';
import { TenantSecrets } from './secrets.ts';

const VALUE = 'sk-live-7f3a9c-hunter2';

let db: Database;
let secrets: TenantSecrets;
let dataDir: string;
let memory: MemoryDirs;

beforeEach(async () => {
  db = openDatabase(':memory:');
  secrets = new TenantSecrets(db, randomBytes(32), () => 1000);
  dataDir = await mkdtemp(join(tmpdir(), 'boilerhouse-secrets-'));
  memory = new MemoryDirs(dataDir);
});

afterEach(async () => {
  await rm(memory.root, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

test('values go in sealed and come out whole; only names are listed', async () => {
  const values = { API_KEY: VALUE, DB_URL: 'postgres://u:p@h/db', EMPTY: '' };
  expect(secrets.put('alice', 'nanoclaw', values)).toEqual(['API_KEY', 'DB_URL', 'EMPTY']);
  expect(secrets.keys('alice', 'nanoclaw')).toEqual(['API_KEY', 'DB_URL', 'EMPTY']);
  expect(secrets.keys('alice', 'echo')).toEqual([]);
  expect(secrets.list('alice')).toEqual([
    { workload: 'nanoclaw', keys: ['API_KEY', 'DB_URL', 'EMPTY'], updatedAt: 1000 },
  ]);

  const dir = await memory.create('nanoclaw-1');
  await secrets.materialize('alice', 'nanoclaw', dir, '/run/secrets');
  const source = join(dir, 'secrets');
  expect((await readdir(source)).sort()).toEqual(['API_KEY', 'DB_URL', 'EMPTY']);
  for (const [name, value] of Object.entries(values))
    expect(await readFile(join(source, name), 'utf8')).toBe(value);

  // A put replaces the whole set; a delete forgets it.
  secrets.put('alice', 'nanoclaw', { OTHER: 'x' });
  expect(secrets.keys('alice', 'nanoclaw')).toEqual(['OTHER']);
  expect(secrets.delete('alice', 'nanoclaw')).toBe(true);
  expect(secrets.keys('alice', 'nanoclaw')).toEqual([]);
  expect(secrets.delete('alice', 'nanoclaw')).toBe(false);
});

test('the stored row holds no value in the clear, and no two puts share a nonce', () => {
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE });
  const raw = db.prepare('SELECT * FROM tenant_secrets').get() as Record<string, unknown>;
  const bytes = Buffer.concat(
    Object.values(raw).map((column) =>
      column instanceof Uint8Array ? Buffer.from(column) : Buffer.from(String(column)),
    ),
  );
  expect(bytes.includes('API_KEY')).toBe(true); // names are stored in the clear, on purpose
  expect(bytes.includes(VALUE)).toBe(false);
  expect(bytes.includes(Buffer.from(VALUE).toString('base64'))).toBe(false);
  expect(bytes.includes(Buffer.from(VALUE).toString('hex'))).toBe(false);

  const nonce = getSecrets(db, 'alice', 'nanoclaw')?.nonce;
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE });
  expect(getSecrets(db, 'alice', 'nanoclaw')?.nonce.equals(nonce as Buffer)).toBe(false);
});

test('a row copied to another tenant or workload, or with its names changed, does not decrypt', async () => {
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE });
  db.exec(`INSERT INTO tenant_secrets SELECT 'mallory', workload, keys, key_id, nonce, tag, ciphertext, updated_at
           FROM tenant_secrets WHERE tenant = 'alice'`);
  db.exec(`INSERT INTO tenant_secrets SELECT tenant, 'echo', keys, key_id, nonce, tag, ciphertext, updated_at
           FROM tenant_secrets WHERE tenant = 'alice'`);
  const dir = await memory.create('i1');
  for (const [tenant, workload] of [
    ['mallory', 'nanoclaw'],
    ['alice', 'echo'],
  ] as const) {
    const error = await secrets
      .materialize(tenant, workload, dir, '/app/.env')
      .catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(SecretsDecryptError);
    expect((error as Error).message).toMatch(/do not authenticate: the row was altered or copied/);
    expect((error as Error).message).not.toContain(VALUE);
  }
  db.exec(`UPDATE tenant_secrets SET keys = '["OTHER"]' WHERE tenant = 'alice' AND workload = 'nanoclaw'`);
  await expect(secrets.materialize('alice', 'nanoclaw', dir, '/app/.env')).rejects.toThrow(
    SecretsDecryptError,
  );
  // Nothing was written for the instance by the failed attempts.
  await expect(stat(join(dir, 'secrets'))).rejects.toThrow(/ENOENT/);
});

test('secrets sealed with another key say so', async () => {
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE });
  const otherKey = new TenantSecrets(db, randomBytes(32));
  const dir = await memory.create('i1');
  await expect(otherKey.materialize('alice', 'nanoclaw', dir, '/app/.env')).rejects.toThrow(
    /were sealed with another secret key \(id [0-9a-f]{16}, current [0-9a-f]{16}\)/,
  );
});

test('invalid secrets are refused, naming the secret and never showing a value', () => {
  const cases: [unknown, RegExp][] = [
    [{ '1ABC': VALUE }, /secret name "1ABC" is not valid/],
    [{ 'MY-KEY': VALUE }, /secret name "MY-KEY" is not valid/],
    [{ '../etc/passwd': VALUE }, /secret name "..\/etc\/passwd" is not valid/],
    [{ ['A'.repeat(256)]: VALUE }, /is not valid: use up to 255/],
    [{ TOKEN: 42 }, /^secret TOKEN must be a string, got a number$/],
    [{ TOKEN: { nested: VALUE } }, /^secret TOKEN must be a string, got an object$/],
    [{ TOKEN: null }, /^secret TOKEN must be a string, got null$/],
    [{ BIG: `${VALUE}${'x'.repeat(64 * 1024)}` }, /^secret BIG is 65558 bytes, over the limit of 65536$/],
    [{ NUL: `${VALUE}\0` }, /^secret NUL contains a NUL character$/],
    [{ BROKEN: `${VALUE}\ud800` }, /^secret BROKEN is not valid Unicode$/],
    [Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`K${i}`, VALUE])), /at most 256 secrets/],
    [[VALUE], /"values" must be an object of names to strings, got an array/],
    [VALUE, /"values" must be an object of names to strings, got a string/],
  ];
  for (const [values, message] of cases) {
    const error = (() => {
      try {
        secrets.put('alice', 'nanoclaw', values);
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(VALUE);
    expect(error?.message).not.toContain('xxxx');
  }
  expect(secrets.keys('alice', 'nanoclaw')).toEqual([]);
});

test('the limits themselves are accepted', () => {
  const many = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`K${i}`, 'v']));
  expect(secrets.put('alice', 'a', many)).toHaveLength(256);
  expect(secrets.put('alice', 'b', { BIG: 'é'.repeat(32 * 1024), _x9: '' })).toEqual(['BIG', '_x9']);
  // A name that is special to JavaScript objects is just a name.
  expect(secrets.put('alice', 'c', JSON.parse('{"__proto__": "p", "constructor": "c"}'))).toEqual([
    '__proto__',
    'constructor',
  ]);
});

test('a file target gets a dotenv file rewritten in place, 0400 and owned by the workload user', async () => {
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE, MULTI: 'a "b"\n$HOME \\' });
  const dir = await memory.create('nanoclaw-1');
  const source = await secrets.materialize('alice', 'nanoclaw', dir, '/app/.env', { uid: 1000, gid: 1001 });
  expect(source).toBe(join(dir, 'secrets'));
  expect(mountOf(await realpath(source), await readFile('/proc/mounts', 'utf8'))?.type).toBe('tmpfs');
  expect(await readFile(source, 'utf8')).toBe(`API_KEY="${VALUE}"\nMULTI="a \\"b\\"\\n\\$HOME \\\\"\n`);
  const first = await stat(source);
  expect({ mode: first.mode & 0o777, uid: first.uid, gid: first.gid }).toEqual({
    mode: 0o400,
    uid: 1000,
    gid: 1001,
  });

  // Written again after a change: the same inode (a running container's bind mount keeps seeing it).
  secrets.put('alice', 'nanoclaw', { API_KEY: 'rotated' });
  await secrets.materialize('alice', 'nanoclaw', dir, '/app/.env', { uid: 1000, gid: 1001 });
  expect(await readFile(source, 'utf8')).toBe('API_KEY="rotated"\n');
  expect((await stat(source)).ino).toBe(first.ino);

  // Nothing stored: an empty file, readable by any user when the workload's user has no numeric id.
  secrets.delete('alice', 'nanoclaw');
  await secrets.materialize('alice', 'nanoclaw', dir, '/app/.env');
  expect(await readFile(source, 'utf8')).toBe('');
  expect((await stat(source)).mode & 0o777).toBe(0o444);
});

test('a directory target gets one 0400 file per name, and names no longer stored disappear', async () => {
  const owner = { uid: 1000, gid: 1000 };
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE, OLD: 'gone soon', MULTI: 'a\nb "c" $D' });
  const dir = await memory.create('nanoclaw-1');
  const source = await secrets.materialize('alice', 'nanoclaw', dir, '/run/secrets', owner);
  expect((await readdir(source)).sort()).toEqual(['API_KEY', 'MULTI', 'OLD']);
  expect(await readFile(join(source, 'MULTI'), 'utf8')).toBe('a\nb "c" $D');
  const file = await stat(join(source, 'API_KEY'));
  expect({ mode: file.mode & 0o777, uid: file.uid }).toEqual({ mode: 0o400, uid: 1000 });
  const folder = await stat(source);
  expect({ mode: folder.mode & 0o777, uid: folder.uid }).toEqual({ mode: 0o500, uid: 1000 });

  secrets.put('alice', 'nanoclaw', { API_KEY: 'rotated' });
  await secrets.materialize('alice', 'nanoclaw', dir, '/run/secrets', owner);
  expect(await readdir(source)).toEqual(['API_KEY']);
  expect(await readFile(join(source, 'API_KEY'), 'utf8')).toBe('rotated');
  expect((await stat(source)).ino).toBe(folder.ino);

  await memory.remove('nanoclaw-1');
  await expect(stat(source)).rejects.toThrow(/ENOENT/);
});

// The test needs a directory on disk; where the temporary directory is itself a tmpfs there is none to use.
const tmpOnDisk = !['tmpfs', 'ramfs'].includes(
  mountOf(realpathSync(tmpdir()), readFileSync('/proc/mounts', 'utf8'))?.type ?? '',
);

test.skipIf(!tmpOnDisk)('decrypted secrets are never written to a directory on disk', async () => {
  secrets.put('alice', 'nanoclaw', { API_KEY: VALUE });
  await expect(secrets.materialize('alice', 'nanoclaw', dataDir, '/app/.env')).rejects.toThrow(
    /secrets must be kept in memory, but .* is on /,
  );
  await expect(stat(join(dataDir, 'secrets'))).rejects.toThrow(/ENOENT/);
});
