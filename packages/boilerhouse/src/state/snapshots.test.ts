/** Saves and restores through the snapshot store, on a local sink and real files. */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SyncMapping } from '@boilerhouse/spec';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { whenMissing } from '../testing/missing.ts';
import { headKey, saveBase, saveKey } from './keys.ts';
import { MappingSet } from './mappings.ts';
import { CachedSink } from './sinks/cached-sink.ts';
import { LocalSink } from './sinks/local.ts';
import { ObjectCache } from './sinks/object-cache.ts';
import type { Sink } from './sinks/sink.ts';
import { SnapshotStore } from './snapshots.ts';

let root: string;
let sink: LocalSink;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'snapshots-'));
  sink = new LocalSink(join(root, 'sink'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The reference workload's mappings. */
const REFERENCE: SyncMapping[] = [
  { path: 'data/sessions', direction: 'bidirectional', mode: 'sync' },
  { path: 'groups', direction: 'bidirectional', mode: 'sync' },
  { path: 'data/registered_groups.json', direction: 'bidirectional', mode: 'copy' },
  { path: 'store/auth_info_baileys', direction: 'bidirectional', mode: 'sync' },
  { path: 'store', pattern: '*.db*', direction: 'upload', mode: 'copy' },
];

async function tree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

async function read(dir: string, path: string): Promise<string | undefined> {
  return readFile(join(dir, path), 'utf8').catch(whenMissing(undefined));
}

const base = saveBase(undefined, '+4915112345678', 'nanoclaw');
const store = (target: Sink = sink) => new SnapshotStore(target, base);

describe('overlapping mappings', () => {
  test('each file follows its most specific mapping; what no mapping covers is not saved', async () => {
    const state = await tree(join(root, 'state'), {
      'data/sessions/main/session.jsonl': 'session',
      'data/registered_groups.json': '{"main":{}}',
      'data/ipc/main/pending.json': 'transient',
      'groups/main/CLAUDE.md': '# memory',
      'store/auth_info_baileys/creds.json': 'creds',
      'store/messages.db': 'not really sqlite',
      'store/notes.txt': 'uncovered',
    });
    const mappings = new MappingSet(REFERENCE);
    const saved = await store().save(state, mappings, 'i-1');
    expect(saved).toMatchObject({ seq: 1, changed: true, files: 5 });
    const target = join(root, 'restored');
    await mkdir(target);
    const restored = await store().restore(target, mappings);
    expect(restored.seq).toBe(1);
    expect(await read(target, 'data/sessions/main/session.jsonl')).toBe('session');
    expect(await read(target, 'data/registered_groups.json')).toBe('{"main":{}}');
    expect(await read(target, 'groups/main/CLAUDE.md')).toBe('# memory');
    expect(await read(target, 'store/auth_info_baileys/creds.json')).toBe('creds');
    // Upload-only: saved, but never restored over a live one.
    expect(await read(target, 'store/messages.db')).toBeUndefined();
    // Not covered by any mapping: neither saved nor restored.
    expect(await read(target, 'data/ipc/main/pending.json')).toBeUndefined();
    expect(await read(target, 'store/notes.txt')).toBeUndefined();
    const manifest = await store().manifest(1);
    expect(manifest.files.map((file) => file.path)).toEqual([
      'data/registered_groups.json',
      'data/sessions/main/session.jsonl',
      'groups/main/CLAUDE.md',
      'store/auth_info_baileys/creds.json',
      'store/messages.db',
    ]);
  });

  test('sink_path relocates files in the sink, and a restore maps them back', async () => {
    const state = await tree(join(root, 'state'), { 'data/sessions/a.json': 'a' });
    const mappings = new MappingSet([
      { path: 'data/sessions', sinkPath: 'sessions', direction: 'bidirectional', mode: 'sync' },
    ]);
    await store().save(state, mappings, 'i-1');
    expect((await store().manifest(1)).files[0]?.path).toBe('sessions/a.json');
    // The workload moved its sessions; the saves follow through the mapping.
    const moved = new MappingSet([
      { path: 'var/sessions', sinkPath: 'sessions', direction: 'bidirectional', mode: 'sync' },
    ]);
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, moved);
    expect(await read(target, 'var/sessions/a.json')).toBe('a');
  });
});

describe('incremental saves', () => {
  test('nothing changed: no new save; one file changed: only it is uploaded', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`notes/${i}.txt`] = `note ${i}`;
    files['big.bin'] = 'x'.repeat(300 * 1024);
    const state = await tree(join(root, 'state'), files);
    const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
    expect(await store().save(state, mappings, 'i-1')).toMatchObject({
      seq: 1,
      changed: true,
      uploadedFiles: 51,
    });
    expect(await store().save(state, mappings, 'i-1')).toMatchObject({
      seq: 1,
      changed: false,
      uploadedFiles: 0,
    });
    await writeFile(join(state, 'notes/7.txt'), 'changed');
    expect(await store().save(state, mappings, 'i-1')).toMatchObject({
      seq: 2,
      changed: true,
      uploadedFiles: 1,
    });
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, mappings);
    expect(await read(target, 'notes/7.txt')).toBe('changed');
    expect(await read(target, 'notes/8.txt')).toBe('note 8');
    expect((await read(target, 'big.bin'))?.length).toBe(300 * 1024);
  });

  test('sync mirrors deletions; copy keeps what the instance no longer has', async () => {
    const state = await tree(join(root, 'state'), {
      'mirror/a': 'a',
      'mirror/b': 'b',
      'keep/a': 'a',
      'keep/b': 'b',
    });
    const mappings = new MappingSet([
      { path: 'mirror', direction: 'bidirectional', mode: 'sync' },
      { path: 'keep', direction: 'bidirectional', mode: 'copy' },
    ]);
    await store().save(state, mappings, 'i-1');
    await unlink(join(state, 'mirror/b'));
    await unlink(join(state, 'keep/b'));
    await store().save(state, mappings, 'i-1');
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, mappings);
    expect([await read(target, 'mirror/a'), await read(target, 'mirror/b')]).toEqual(['a', undefined]);
    expect([await read(target, 'keep/a'), await read(target, 'keep/b')]).toEqual(['a', 'b']);
  });
});

describe('large files, in chunks', () => {
  const MIB = 1024 * 1024;
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);

  test('a change inside a large file uploads only the chunk it touched, and the file comes back whole', async () => {
    const state = join(root, 'state');
    await mkdir(state);
    const content = randomBytes(20 * MIB + 12_345);
    await writeFile(join(state, 'big.bin'), content);
    expect(await store().save(state, mappings, 'i-1')).toMatchObject({ uploadedBytes: content.length });
    expect((await store().manifest(1)).files[0]?.chunks).toHaveLength(3);
    content.write('changed', 9 * MIB);
    await writeFile(join(state, 'big.bin'), content);
    expect(await store().save(state, mappings, 'i-1')).toMatchObject({ seq: 2, uploadedBytes: 8 * MIB });
    const target = join(root, 'restored');
    await mkdir(target);
    expect(await store().restore(target, mappings)).toMatchObject({ files: 1, bytes: content.length });
    expect((await readFile(join(target, 'big.bin'))).equals(content)).toBe(true);
  });

  test('a torn leftover of a save that died is uploaded again, never trusted', async () => {
    const state = join(root, 'state');
    await mkdir(state);
    const content = randomBytes(MIB);
    await writeFile(join(state, 'big.bin'), content);
    const sha256 = createHash('sha256').update(content).digest('hex');
    await sink.put(`${base}blobs/${sha256.slice(0, 2)}/${sha256}`, content.subarray(0, 1000));
    await store().save(state, mappings, 'i-1');
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, mappings);
    expect((await readFile(join(target, 'big.bin'))).equals(content)).toBe(true);
  });

  test('a damaged chunk fails the restore with the file named', async () => {
    const state = join(root, 'state');
    await mkdir(state);
    await writeFile(join(state, 'big.bin'), randomBytes(MIB));
    await store().save(state, mappings, 'i-1');
    const [chunk] = (await store().manifest(1)).files[0]?.chunks ?? [];
    await sink.put(`${base}blobs/${chunk?.slice(0, 2)}/${chunk}`, randomBytes(MIB));
    const target = join(root, 'restored');
    await mkdir(target);
    await expect(store().restore(target, mappings)).rejects.toThrow('big.bin: the saved content is damaged');
  });

  test("HEAD records its manifest's hash, so that a restore through the host's cache reads the manifest from it; an older HEAD without one still restores", async () => {
    const state = await tree(join(root, 'state'), { 'groups/main/CLAUDE.md': 'remember' });
    const reads: string[] = [];
    const counted: Sink = {
      description: sink.description,
      put: (key, body) => sink.put(key, body),
      get: (key) => {
        reads.push(key);
        return sink.get(key);
      },
      stream: (key) => sink.stream(key),
      list: (prefix) => sink.list(prefix),
      delete: (keys) => sink.delete(keys),
    };
    const cached = new CachedSink(
      counted,
      new ObjectCache({ dir: join(root, 'cache'), maxBytes: 16 * MIB, warn: () => {} }),
    );
    await store(cached).save(state, mappings, 'i-1');
    const head = JSON.parse((await sink.get(headKey(base))).toString());
    const manifest = await sink.get(saveKey(base, 1));
    expect(head).toEqual({ seq: 1, manifestSha256: createHash('sha256').update(manifest).digest('hex') });
    reads.length = 0;
    await mkdir(join(root, 'restored'));
    await store(cached).restore(join(root, 'restored'), mappings);
    expect(await read(join(root, 'restored'), 'groups/main/CLAUDE.md')).toBe('remember');
    expect(reads).toEqual([headKey(base)]);
    // A HEAD written before it held the hash: the manifest is read from the sink by its name.
    await sink.put(headKey(base), Buffer.from('{"seq":1}'));
    reads.length = 0;
    await mkdir(join(root, 'older'));
    await store(cached).restore(join(root, 'older'), mappings);
    expect(await read(join(root, 'older'), 'groups/main/CLAUDE.md')).toBe('remember');
    expect(reads).toEqual([headKey(base), saveKey(base, 1)]);
  });

  test("through the host's cache, which vouches for chunks, a damaged one still fails the restore", async () => {
    const cached = (cacheDir: string) =>
      new CachedSink(
        sink,
        new ObjectCache({ dir: join(root, cacheDir), maxBytes: 16 * MIB, warn: () => {} }),
      );
    const state = join(root, 'state');
    await mkdir(state);
    const content = randomBytes(MIB);
    await writeFile(join(state, 'big.bin'), content);
    await store(cached('cache')).save(state, mappings, 'i-1');
    const [chunk] = (await store().manifest(1)).files[0]?.chunks ?? [];
    await sink.put(`${base}blobs/${chunk?.slice(0, 2)}/${chunk}`, randomBytes(MIB));
    // Cached by the save: restored from the host's disk, intact.
    await mkdir(join(root, 'from-cache'));
    await store(cached('cache')).restore(join(root, 'from-cache'), mappings);
    expect((await readFile(join(root, 'from-cache', 'big.bin'))).equals(content)).toBe(true);
    // Not cached: read from the damaged bucket, refused.
    await mkdir(join(root, 'from-sink'));
    await expect(store(cached('empty-cache')).restore(join(root, 'from-sink'), mappings)).rejects.toThrow(
      'big.bin: the saved content is damaged',
    );
  });

  test('a chunk longer than recorded fails the restore, and a missing one names its key', async () => {
    const state = join(root, 'state');
    await mkdir(state);
    await writeFile(join(state, 'big.bin'), randomBytes(MIB));
    await store().save(state, mappings, 'i-1');
    const [chunk] = (await store().manifest(1)).files[0]?.chunks ?? [];
    const key = `${base}blobs/${chunk?.slice(0, 2)}/${chunk}`;
    const content = await sink.get(key);
    await sink.put(key, Buffer.concat([content, randomBytes(3 * MIB)]));
    await mkdir(join(root, 'longer'));
    await expect(store().restore(join(root, 'longer'), mappings)).rejects.toThrow(
      'big.bin: the saved content is damaged',
    );
    await sink.delete([key]);
    await mkdir(join(root, 'missing'));
    await expect(store().restore(join(root, 'missing'), mappings)).rejects.toThrow(
      `save 1 refers to ${key}, which is missing`,
    );
  });
});

describe('a damaged newest save', () => {
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);

  /** Saves 1 and 2, damages `key`, changes a file, and saves again. */
  async function saveOverDamage(key: string) {
    const state = await tree(join(root, 'state'), { 'a.txt': 'one', 'b.txt': 'two' });
    await store().save(state, mappings, 'i-1');
    await writeFile(join(state, 'a.txt'), 'one, changed');
    await store().save(state, mappings, 'i-1');
    await sink.put(key, Buffer.from('{"ver'));
    await writeFile(join(state, 'b.txt'), 'two, changed');
    const saved = await store().save(state, mappings, 'i-1');
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, mappings);
    return { saved, restored: [await read(target, 'a.txt'), await read(target, 'b.txt')] };
  }

  test('its manifest torn: the next save is a whole one, numbered after it; it stays, and so does every object', async () => {
    const key = `${base}saves/000000000002.json`;
    const { saved, restored } = await saveOverDamage(key);
    expect(saved).toMatchObject({ seq: 3, changed: true, uploadedFiles: 2 });
    expect(saved.damaged).toContain(`${key} is not a valid manifest`);
    expect(restored).toEqual(['one, changed', 'two, changed']);
    expect((await sink.get(key)).toString()).toBe('{"ver');
    // What the damaged save refers to cannot be known, so pruning deletes no object while it is there.
    expect(await store().prune({ count: 1 })).toEqual({ saves: 1, objects: 0 });
    expect((await sink.get(key)).toString()).toBe('{"ver');
  });

  test('HEAD torn: the next save is a whole one, numbered after every save, and HEAD names it', async () => {
    const { saved, restored } = await saveOverDamage(`${base}HEAD`);
    expect(saved).toMatchObject({ seq: 3, changed: true, uploadedFiles: 2 });
    expect(restored).toEqual(['one, changed', 'two, changed']);
    expect((await store().list()).map((save) => save.seq)).toEqual([3, 2, 1]);
  });
});

describe('never a mix', () => {
  /** A sink that fails every put after the first `allowed`. */
  function failingAfter(allowed: number): Sink {
    let puts = 0;
    return {
      description: 'failing',
      put: async (key: string, body: Buffer) => {
        if (++puts > allowed) throw new Error(`connection reset while writing ${key}`);
        await sink.put(key, body);
      },
      get: (key) => sink.get(key),
      stream: (key) => sink.stream(key),
      list: (prefix) => sink.list(prefix),
      delete: (keys) => sink.delete(keys),
    };
  }

  test('a save that fails half-way leaves the previous save whole, and a restore reads exactly it', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`f${i}`] = `first ${i}`;
    files.large = 'L'.repeat(400 * 1024);
    const state = await tree(join(root, 'state'), files);
    const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
    await store().save(state, mappings, 'i-1');
    for (let i = 0; i < 20; i++) await writeFile(join(state, `f${i}`), `second ${i}`);
    await writeFile(join(state, 'large'), 'M'.repeat(400 * 1024));
    // Each failure point: after the blob, after the pack, after the manifest (before HEAD).
    for (const allowed of [0, 1, 2]) {
      await expect(store(failingAfter(allowed)).save(state, mappings, 'i-1')).rejects.toThrow(
        'connection reset',
      );
      expect(await store().head()).toBe(1);
      const target = join(root, `restored-${allowed}`);
      await mkdir(target);
      await store().restore(target, mappings);
      for (let i = 0; i < 20; i++) expect(await read(target, `f${i}`)).toBe(`first ${i}`);
      expect((await read(target, 'large'))?.[0]).toBe('L');
    }
  });
});

describe('SQLite', () => {
  test('a database is captured consistently while the tenant writes; its WAL is never saved on its own', async () => {
    const state = join(root, 'state');
    await mkdir(join(state, 'store'), { recursive: true });
    const path = join(state, 'store', 'messages.db');
    const tenant = new DatabaseSync(path);
    tenant.exec('PRAGMA journal_mode = WAL; CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)');
    const insert = tenant.prepare('INSERT INTO messages (body) VALUES (?)');
    for (let i = 0; i < 2_000; i++) insert.run(`message ${i} ${'x'.repeat(200)}`);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        insert.run(`during save ${i}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const mappings = new MappingSet([
      { path: 'store', pattern: '*.db*', direction: 'bidirectional', mode: 'copy' },
    ]);
    const saved = await store().save(state, mappings, 'i-1');
    writing = false;
    await writer;
    tenant.close();
    expect(saved.changed).toBe(true);
    const manifest = await store().manifest(1);
    expect(manifest.files.map((file) => [file.path, file.sqlite])).toEqual([['store/messages.db', true]]);
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, mappings);
    const restored = new DatabaseSync(join(target, 'store', 'messages.db'));
    expect(restored.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    const { n } = restored.prepare('SELECT count(*) AS n FROM messages').get() as { n: number };
    expect(n).toBeGreaterThanOrEqual(2_000);
    restored.close();
  });
});

test('symbolic links in the state volume are never followed', async () => {
  const secret = await tree(join(root, 'host'), { 'secret.txt': 'host secret' });
  const state = await tree(join(root, 'state'), { 'ok.txt': 'ok' });
  await symlink(join(secret, 'secret.txt'), join(state, 'leak.txt'));
  await symlink(secret, join(state, 'leakdir'));
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
  await store().save(state, mappings, 'i-1');
  expect((await store().manifest(1)).files.map((file) => file.path)).toEqual(['ok.txt']);
});

test('retention keeps the newest saves and everything they need; a save can be rolled back to', async () => {
  const state = await tree(join(root, 'state'), { 'shared.txt': 'same in every save', 'v.txt': 'v1' });
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
  for (let version = 1; version <= 5; version++) {
    await writeFile(join(state, 'v.txt'), `v${version}`);
    await store().save(state, mappings, 'i-1');
  }
  const pruned = await store().prune({ count: 2 });
  expect(pruned.saves).toBe(3);
  expect((await store().list()).map((save) => save.seq)).toEqual([5, 4]);
  const rolled = await store().rollBack(4);
  expect(rolled).toBe(6);
  const target = join(root, 'restored');
  await mkdir(target);
  await store().restore(target, mappings);
  expect([await read(target, 'v.txt'), await read(target, 'shared.txt')]).toEqual([
    'v4',
    'same in every save',
  ]);
  expect((await lstat(join(target, 'v.txt'))).isFile()).toBe(true);
});

describe('retention by age', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2025-06-30T12:00:00Z');
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);

  /** Saves 1..5, made (as their manifests say) these many days before `now`. */
  async function savesAged(days: number[]): Promise<void> {
    const state = await tree(join(root, 'state'), { 'shared.txt': 'in every save' });
    for (const [index, ago] of days.entries()) {
      await writeFile(join(state, 'v.txt'), `v${index + 1}`);
      await store().save(state, mappings, 'i-1');
      const key = saveKey(base, index + 1);
      const manifest = JSON.parse((await sink.get(key)).toString());
      const createdAt = new Date(now - ago * DAY).toISOString();
      await sink.put(key, Buffer.from(JSON.stringify({ ...manifest, createdAt })));
    }
  }
  const kept = async () => (await store().list()).map((save) => save.seq);

  test('an age keeps every save younger than it, and prunes what only older ones needed', async () => {
    await savesAged([10, 6, 2, 1, 0]);
    // Save 1's pack also holds shared.txt, which every kept save refers to: only save 2's goes.
    expect(await store().prune({ age: 3 * DAY }, now)).toEqual({ saves: 2, objects: 1 });
    expect(await kept()).toEqual([5, 4, 3]);
    const target = join(root, 'restored');
    await mkdir(target);
    await store().restore(target, mappings, { seq: 3 });
    expect([await read(target, 'v.txt'), await read(target, 'shared.txt')]).toEqual(['v3', 'in every save']);
  });

  test('count and age: a save either keeps stays; a tenant away longer than the age keeps its last saves', async () => {
    await savesAged([40, 39, 38, 37, 36]);
    expect(await store().prune({ count: 2, age: 30 * DAY }, now)).toMatchObject({ saves: 3 });
    expect(await kept()).toEqual([5, 4]);
  });

  test('HEAD and the newest save stay whatever their age; a damaged save is never pruned', async () => {
    await savesAged([9, 8, 7, 6, 5]);
    // Save 2 made current again by hand, and save 3's manifest torn.
    await sink.put(headKey(base), Buffer.from(JSON.stringify({ seq: 2 })));
    await sink.put(saveKey(base, 3), Buffer.from('{"ver'));
    expect(await store().prune({ age: DAY }, now)).toEqual({ saves: 2, objects: 0 });
    expect(await kept()).toEqual([5, 2]);
    expect((await sink.get(saveKey(base, 3))).toString()).toBe('{"ver');
  });
});
