import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadSecretKey, parseSecretKey, SECRET_KEY_ENV } from './key.ts';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'boilerhouse-key-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

test('a key from the environment, as hex or base64 (standard or URL-safe), is used as it is', async () => {
  const key = randomBytes(32);
  for (const text of [
    key.toString('hex'),
    key.toString('hex').toUpperCase(),
    key.toString('base64'),
    `${key.toString('base64url')}\n`,
  ]) {
    const loaded = await loadSecretKey({ [SECRET_KEY_ENV]: text }, dataDir);
    expect(loaded).toEqual({ key, source: SECRET_KEY_ENV, generated: false });
  }
  // The environment wins: no key file is made.
  await expect(stat(join(dataDir, 'secret.key'))).rejects.toThrow(/ENOENT/);
});

test('a malformed key is refused with an error that never shows it', async () => {
  const bad = [
    'correct-horse-battery-staple',
    randomBytes(31).toString('hex'),
    `${randomBytes(32).toString('hex')}0`,
    randomBytes(16).toString('base64'),
    randomBytes(33).toString('base64'),
    '',
  ];
  for (const text of bad) {
    const error = await loadSecretKey({ [SECRET_KEY_ENV]: text }, dataDir).then(
      () => undefined,
      (caught: Error) => caught,
    );
    expect(error?.message).toMatch(/^BOILERHOUSE_SECRET_KEY must be a 32-byte key, as base64 .* or hex/);
    if (text !== '') expect(error?.message).not.toContain(text.slice(0, 8));
  }
});

test('without one in the environment, a key file readable only by the daemon is made once and reused', async () => {
  const first = await loadSecretKey({}, dataDir);
  const path = join(dataDir, 'secret.key');
  expect(first.source).toBe(path);
  expect(first.generated).toBe(true);
  expect(first.key.length).toBe(32);
  expect((await stat(path)).mode & 0o777).toBe(0o600);
  expect(parseSecretKey(await readFile(path, 'utf8'), 'file')).toEqual(first.key);

  expect(await loadSecretKey({}, join(dataDir, '.'))).toEqual({ ...first, generated: false });
});

test('daemons starting together agree on one generated key', async () => {
  const loaded = await Promise.all(Array.from({ length: 8 }, () => loadSecretKey({}, dataDir)));
  expect(new Set(loaded.map(({ key }) => key.toString('hex'))).size).toBe(1);
  expect(loaded.filter(({ generated }) => generated)).toHaveLength(1);
});

test('a key file open to group or others is refused, naming the file and the fix', async () => {
  const path = join(dataDir, 'secret.key');
  const key = randomBytes(32);
  await writeFile(path, key.toString('base64'), { mode: 0o644 });
  await chmod(path, 0o644);
  await expect(loadSecretKey({}, dataDir)).rejects.toThrow(
    `the secret key file ${path} is open to group or others (mode 0644); it must be readable only by the daemon: run \`chmod 600 ${path}\``,
  );
  await chmod(path, 0o600);
  expect((await loadSecretKey({}, dataDir)).key).toEqual(key);
});

test('a key file that does not hold a key is refused without showing what it holds', async () => {
  const path = join(dataDir, 'secret.key');
  await writeFile(path, 'password123\n', { mode: 0o600 });
  const error = await loadSecretKey({}, dataDir).catch((caught: Error) => caught);
  expect((error as Error).message).toContain(`the secret key file ${path} must be a 32-byte key`);
  expect((error as Error).message).not.toContain('password123');
});
