/**
 * `bh backup` and `bh restore` against a real daemon (HTTP on loopback, auth on) on the real Docker engine:
 * a backup taken while it serves, restored with it stopped, and the daemon started again over instances
 * that moved on since (issue 18: a restored backup handed out a claimed instance as ready, ENXIO at its gate).
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { configFromEnv } from '../config.ts';
import { type Daemon, startDaemon } from '../daemon.ts';
import { sha256Of } from '../db/backup.ts';
import { type BackupManifest, DATABASE_FILE, MANIFEST_FILE } from '../db/backup-manifest.ts';
import { openDatabase } from '../db/database.ts';
import { daemonId } from '../db/meta.ts';
import { MIGRATIONS } from '../db/migrations/index.ts';
import { silentLogger } from '../log.ts';
import { DockerRuntime } from '../runtime/docker.ts';
import { MemoryDirs, SECRET_KEY_FILE } from '../secrets/index.ts';
import { counter, echoWorkload, waitFor } from '../testing/harness.ts';
import { removeDaemonLeftovers } from '../testing/leftovers.ts';
import { runCli } from './main.ts';

let root: string;
let dataDir: string;
let daemon: Daemon;
let id: string;
const key = `backup-test-${randomBytes(16).toString('hex')}`;

const start = () =>
  startDaemon(
    configFromEnv({
      BOILERHOUSE_DATA_DIR: dataDir,
      BOILERHOUSE_WORKLOADS_DIR: join(root, 'workloads'),
      BOILERHOUSE_PORT: '0',
    }),
    silentLogger,
    { BOILERHOUSE_API_KEY: key },
  );

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boilerhouse-backup-'));
  dataDir = join(root, 'data');
  await mkdir(join(root, 'workloads'));
  // One ready instance; no interval saves, so a write survives only in the instance's own directory.
  await writeFile(
    join(root, 'workloads', 'echo.yaml'),
    await echoWorkload({
      'min_idle: 2': 'min_idle: 1',
      'interval: 30s': 'interval: 1h',
      '  state:\n    target: /data': '  state:\n    target: /data\n  secrets:\n    target: /secrets/.env',
    }),
  );
  daemon = await start();
  id = daemon.boilerhouse.daemonId;
});

afterAll(async () => {
  await daemon?.stop();
  const runtime = new DockerRuntime();
  await removeDaemonLeftovers(runtime, id, dataDir);
  runtime.close();
  await rm(root, { recursive: true, force: true });
  await rm(new MemoryDirs(dataDir).root, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function bh(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run: Run = { code: -1, out: '', err: '' };
  run.code = await runCli(args, {
    out: (text) => {
      run.out += text;
    },
    err: (text) => {
      run.err += text;
    },
    env: { BOILERHOUSE_URL: daemon.url, BOILERHOUSE_TOKEN: key, BOILERHOUSE_DATA_DIR: dataDir, ...env },
    prog: 'bh',
  });
  return run;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${daemon.url}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${json.error?.message}`);
  return json;
}

interface Claimed {
  instance: { id: string };
  endpoints: { url: string }[];
  path: string;
}

const claim = (tenant: string) => api<Claimed>('POST', `/tenants/${tenant}/claim`, { workload: 'echo' });
const hits = (claimed: Claimed) => counter(claimed.endpoints[0]?.url as string);
const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A copy of a backup with `change` made to it, the manifest's size and SHA-256 of `file` made to match. */
async function alteredBackup(from: string, file: string, change: (path: string) => Promise<void>) {
  const to = await mkdtemp(join(root, 'altered-'));
  await cp(from, to, { recursive: true });
  await change(join(to, file));
  const manifest = JSON.parse(await readFile(join(to, MANIFEST_FILE), 'utf8')) as BackupManifest;
  const bytes = await readFile(join(to, file));
  manifest.files[file as typeof DATABASE_FILE] = { bytes: bytes.length, sha256: sha256Of(bytes) };
  await writeFile(join(to, MANIFEST_FILE), JSON.stringify(manifest));
  return to;
}

test('backup refuses a target that is not a new or empty directory, before asking the daemon', async () => {
  const full = join(root, 'full');
  await mkdir(full);
  await writeFile(join(full, 'notes.txt'), 'mine');
  const refused = await bh(['backup', full], { BOILERHOUSE_URL: 'http://127.0.0.1:9' });
  expect(refused).toMatchObject({ code: 1, out: '' });
  expect(refused.err).toContain('is not empty');
  expect(await readdir(full)).toEqual(['notes.txt']);
  const file = join(root, 'a-file');
  await writeFile(file, 'x');
  expect((await bh(['backup', file])).err).toContain('is not a directory');
  // The daemon unreachable: the directory the command made is gone again.
  const unreached = await bh(['backup', join(root, 'never')], { BOILERHOUSE_URL: 'http://127.0.0.1:9' });
  expect(unreached.code).toBe(1);
  await expect(stat(join(root, 'never'))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('restore refuses a damaged or newer backup, another key, and a running daemon, and keeps the current database', async () => {
  const backupDir = join(root, 'checked-backup');
  expect((await bh(['backup', backupDir])).code).toBe(0);
  // Another data directory with a database of its own, which no refused restore may touch.
  const otherData = join(root, 'other-data');
  const other = openDatabase(join(otherData, DATABASE_FILE));
  const otherId = daemonId(other);
  other.close();
  const before = sha256Of(await readFile(join(otherData, DATABASE_FILE)));
  const restoreInto = (dir: string, env: Record<string, string> = {}) =>
    bh(['restore', dir], { BOILERHOUSE_DATA_DIR: otherData, ...env });

  const damaged = await mkdtemp(join(root, 'damaged-'));
  await cp(backupDir, damaged, { recursive: true });
  const db = await readFile(join(damaged, DATABASE_FILE));
  db[db.length - 100] = (db[db.length - 100] ?? 0) ^ 0xff;
  await writeFile(join(damaged, DATABASE_FILE), db);
  expect(await restoreInto(damaged)).toMatchObject({
    code: 1,
    err: expect.stringContaining(
      'boilerhouse.db is damaged: its size or SHA-256 is not the one manifest.json gives',
    ),
  });

  const newer = await alteredBackup(backupDir, DATABASE_FILE, async (path) => {
    const copy = new DatabaseSync(path);
    copy.exec('PRAGMA user_version = 999');
    copy.close();
  });
  const manifest = JSON.parse(await readFile(join(newer, MANIFEST_FILE), 'utf8')) as BackupManifest;
  await writeFile(join(newer, MANIFEST_FILE), JSON.stringify({ ...manifest, schema_version: 999 }));
  expect((await restoreInto(newer)).err).toContain(
    `schema version 999, newer than this Boilerhouse knows (${MIGRATIONS.length})`,
  );

  const otherKey = await alteredBackup(backupDir, SECRET_KEY_FILE, (path) =>
    writeFile(path, `${randomBytes(32).toString('base64')}\n`),
  );
  expect((await restoreInto(otherKey)).err).toContain('secret.key is not the key the manifest names');
  expect(
    (await restoreInto(backupDir, { BOILERHOUSE_SECRET_KEY: randomBytes(32).toString('hex') })).err,
  ).toContain('BOILERHOUSE_SECRET_KEY is set to another key');

  const partial = await mkdtemp(join(root, 'partial-'));
  await cp(join(backupDir, DATABASE_FILE), join(partial, DATABASE_FILE));
  expect((await restoreInto(partial)).err).toContain('manifest.json is missing');

  // The daemon of the backup is running on its data directory.
  const running = await bh(['restore', backupDir]);
  expect(running.err).toContain('is in use: a daemon is running on this data directory; stop it first');
  expect((await bh(['restore', backupDir, '--check'])).out).toContain(`is a whole backup of daemon ${id}`);

  expect(sha256Of(await readFile(join(otherData, DATABASE_FILE)))).toBe(before);
  expect(await readdir(otherData)).not.toContain('replaced');
  // Restored over a database of another daemon: said, and that database kept aside.
  const over = await restoreInto(backupDir);
  expect(over.code).toBe(0);
  expect(over.out).toContain(`the database replaced was daemon ${otherId}'s`);
  const [aside] = await readdir(join(otherData, 'replaced'));
  const kept = openDatabase(join(otherData, 'replaced', aside as string, DATABASE_FILE));
  expect(daemonId(kept)).toBe(otherId);
  kept.close();
});

test('issue 18: a backup taken while serving, restored with the daemon stopped: tenants claimed since get their unsaved writes back, and the next claims work', async () => {
  const bob = await claim('bob');
  await hits(bob);
  await api('PATCH', '/tenants/bob/secrets', { workload: 'echo', set: { GREETING: 'hello' } });
  await waitFor(
    async () => (await api<{ instances: { ready: number } }>('GET', '/pools/echo')).instances.ready === 1,
  );
  const ready = (
    await api<{ instances: { id: string; phase: string }[] }>('GET', '/instances')
  ).instances.find((instance) => instance.phase === 'ready');

  const backupDir = join(root, 'backups', 'now');
  const backedUp = await bh(['backup', backupDir]);
  expect(backedUp).toMatchObject({ code: 0, err: '' });
  expect(backedUp.out).toContain(`backed up daemon ${id} (schema ${MIGRATIONS.length}`);
  expect((await readdir(backupDir)).sort()).toEqual([DATABASE_FILE, MANIFEST_FILE, SECRET_KEY_FILE]);
  expect(await mode(backupDir)).toBe(0o700);
  for (const name of await readdir(backupDir))
    expect([name, await mode(join(backupDir, name))]).toEqual([name, 0o600]);
  const secretKey = (await readFile(join(backupDir, SECRET_KEY_FILE), 'utf8')).trim();
  expect(secretKey).toBe((await readFile(join(dataDir, SECRET_KEY_FILE), 'utf8')).trim());
  expect(backedUp.out).not.toContain(secretKey);
  const manifest = JSON.parse(await readFile(join(backupDir, MANIFEST_FILE), 'utf8')) as BackupManifest;
  expect(manifest).toMatchObject({
    daemon: id,
    schema_version: MIGRATIONS.length,
    secret_key: { source: 'file' },
  });

  // After the backup: alice on the instance the backup calls ready, eve on one it does not know, carol's secret.
  const alice = await claim('alice');
  expect(alice.instance.id).toBe(ready?.id);
  await hits(alice);
  await hits(alice);
  const eve = await claim('eve');
  await hits(eve);
  await api('PATCH', '/tenants/carol/secrets', { workload: 'echo', set: { GREETING: 'later' } });
  await daemon.stop();

  const restored = await bh(['restore', backupDir]);
  expect(restored).toMatchObject({ code: 0, err: '' });
  expect(restored.out).toContain(`restored daemon ${id}'s state of ${manifest.created_at}`);
  expect(restored.out).toContain(
    `Gone with this restore: tenant secrets, tokens, access links and pool sizes set after ${manifest.created_at}`,
  );
  const [aside] = await readdir(join(dataDir, 'replaced'));
  expect((await readdir(join(dataDir, 'replaced', aside as string))).sort()).toEqual([
    DATABASE_FILE,
    SECRET_KEY_FILE,
  ]);

  daemon = await start();
  const again = await claim('alice');
  expect(again.instance.id).not.toBe(alice.instance.id);
  expect(await hits(again)).toBe(3);
  expect(await hits(await claim('eve'))).toBe(2);
  const bobAgain = await claim('bob');
  expect([bobAgain.path, bobAgain.instance.id]).toEqual(['hit', bob.instance.id]);
  // A ready instance is ready indeed: its gate opens for a new tenant.
  expect(await hits(await claim('dave'))).toBe(1);
  const secrets = await api<{ secrets: { workload: string; keys: string[] }[] }>(
    'GET',
    '/tenants/bob/secrets',
  );
  expect(secrets.secrets).toEqual([expect.objectContaining({ workload: 'echo', keys: ['GREETING'] })]);
  expect((await api<{ secrets: unknown[] }>('GET', '/tenants/carol/secrets')).secrets).toEqual([]);
  const { events } = await api<{ events: { type: string; data: Record<string, unknown> | null }[] }>(
    'GET',
    '/events?limit=200',
  );
  expect(events.find((event) => event.type === 'daemon.recovered')?.data).toMatchObject({
    unrecordedClaims: 2,
  });
});
