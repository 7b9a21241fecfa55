/**
 * A tenant swapping parts of its state volume for links (or FIFOs) between the daemon's system calls, on
 * real files, real SQLite and the real helper: a save never reads outside the volume, never deletes
 * outside it, and never copies an inode other than the one its scan saw. Each race is widened
 * deterministically (the test swaps between the scan and the reads), then raced for real by a swapper
 * process running as the tenant's user.
 */
import { execFile } from 'node:child_process';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import type { SyncMapping } from '@boilerhouse/spec';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { whenMissing } from '../testing/missing.ts';
import { startSwapper } from '../testing/swapper.ts';
import { Beneath } from './beneath.ts';
import { copyDatabases, openCaptured, scanState } from './capture.ts';
import { saveBase } from './keys.ts';
import { MappingSet } from './mappings.ts';
import { LocalSink } from './sinks/local.ts';
import { SnapshotStore, type SnapshotStoreOptions } from './snapshots.ts';
import { backupDatabase, DEFAULT_SQLITE_BACKUP } from './sqlite-backup.ts';

const exec = promisify(execFile);
const TENANT = 1000;
const DAEMON_SECRET = 'DAEMON-TOKEN-7f3a9c';
const OTHER_TENANT = 'OTHER-TENANT-CHAT-51d2';
const HOST_SECRET = 'HOST-SECRET-e81b';

const MAPPINGS: SyncMapping[] = [
  { path: 'store', pattern: '*.db*', direction: 'upload', mode: 'copy' },
  { path: 'notes', direction: 'bidirectional', mode: 'sync' },
];

let root: string;
let state: string;
let daemonDb: string;
let otherDb: string;
let secretFile: string;

function database(path: string, rows: string[]): void {
  const db = new DatabaseSync(path);
  db.exec('CREATE TABLE t (body TEXT)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  for (const row of rows) insert.run(row);
  db.close();
}

function rowsOf(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT body FROM t').all() as { body: string }[]).map((row) => row.body);
  } finally {
    db.close();
  }
}

/** Every byte the sink holds, to look for content that must never be there. */
async function sinkBytes(): Promise<string> {
  const files = await readdir(join(root, 'sink'), { recursive: true, withFileTypes: true }).catch(
    whenMissing([]),
  );
  const parts = await Promise.all(
    files
      .filter((entry) => entry.isFile())
      .map((entry) => readFile(join(entry.parentPath, entry.name), 'latin1')),
  );
  return parts.join('');
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'capture-attacks-'));
  await chmod(root, 0o755);
  // The daemon's own database (root only) and another tenant's volume (same uid as this tenant).
  await mkdir(join(root, 'daemon'), { mode: 0o700 });
  daemonDb = join(root, 'daemon', 'boilerhouse.db');
  database(daemonDb, [DAEMON_SECRET]);
  await mkdir(join(root, 'other', 'store'), { recursive: true });
  otherDb = join(root, 'other', 'store', 'messages.db');
  database(otherDb, [OTHER_TENANT]);
  await chown(otherDb, TENANT, TENANT);
  secretFile = join(root, 'daemon', 'secret.txt');
  await writeFile(secretFile, HOST_SECRET, { mode: 0o600 });
  // The tenant's volume, owned by its user as instance volumes are.
  state = join(root, 'state');
  await mkdir(join(state, 'store'), { recursive: true });
  await mkdir(join(state, 'notes'));
  database(join(state, 'store', 'x.db'), ['tenant row']);
  await writeFile(join(state, 'notes', 'n.txt'), 'tenant note');
  await exec('chown', ['-R', `${TENANT}:${TENANT}`, state]);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const base = saveBase(undefined, 'mallory', 'nanoclaw');
const store = (options: SnapshotStoreOptions = {}) =>
  new SnapshotStore(new LocalSink(join(root, 'sink')), base, options);

async function withVolume<T>(work: (volume: Beneath) => Promise<T>): Promise<T> {
  const volume = await Beneath.open(state);
  try {
    return await work(volume);
  } finally {
    await volume.close();
  }
}

describe('(a) a database swapped for a link between the scan and the backup', () => {
  for (const [what, target] of [
    ["the daemon's boilerhouse.db", () => daemonDb],
    ["another tenant's messages.db (relative link)", () => '../../other/store/messages.db'],
  ] as const) {
    test(`to ${what}: the backup fails, nothing of it is copied`, async () => {
      await withVolume(async (volume) => {
        const scan = await scanState(volume, new MappingSet(MAPPINGS));
        expect(scan.files.find((file) => file.path === 'store/x.db')?.sqlite).toBe(true);
        await rename(join(state, 'store', 'x.db'), join(state, 'x.db.moved'));
        await symlink(target(), join(state, 'store', 'x.db'));
        await expect(copyDatabases(volume, scan.files, () => true, DEFAULT_SQLITE_BACKUP)).rejects.toThrow(
          'store/x.db changed while it was being saved',
        );
      });
    });
  }

  test('the helper never reaches outside the volume, even when told the outside file is the one to copy', async () => {
    const { ino, dev } = await stat(otherDb, { bigint: true });
    const copy = join(root, 'copy.db');
    await withVolume(async (volume) => {
      // An absolute link, a relative one, and a linked directory: the chroot resolves each inside the volume.
      await symlink(otherDb, join(state, 'store', 'abs.db'));
      await symlink('../../other/store/messages.db', join(state, 'store', 'rel.db'));
      await symlink(join(root, 'other', 'store'), join(state, 'linked'));
      for (const path of ['store/abs.db', 'store/rel.db', 'linked/messages.db']) {
        await rm(copy, { force: true });
        await expect(backupDatabase(volume, path, { dev, ino }, copy, DEFAULT_SQLITE_BACKUP)).rejects.toThrow(
          `${path} changed while it was being saved`,
        );
        expect(await readFile(copy, 'latin1')).not.toContain(OTHER_TENANT);
      }
    });
  });

  test('through a whole save: it fails, HEAD stays the previous save, the sink never holds the outside rows', async () => {
    expect(await store().save(state, new MappingSet(MAPPINGS), 'i-1')).toMatchObject({ seq: 1 });
    database(join(state, 'store', 'y.db'), ['another tenant row']);
    const swapped = store({
      _afterScan: async () => {
        await rename(join(state, 'store', 'y.db'), join(state, 'y.db.moved'));
        await symlink(daemonDb, join(state, 'store', 'y.db'));
      },
    });
    await expect(swapped.save(state, new MappingSet(MAPPINGS), 'i-1')).rejects.toThrow('store/y.db changed');
    expect(await store().head()).toBe(1);
    expect(await sinkBytes()).not.toContain(DAEMON_SECRET);
  });

  test('raced by a swapper: 20 saves while x.db flips to a link to the daemon database; none holds it', async () => {
    const swapper = await startSwapper({
      kind: 'file',
      live: join(state, 'store', 'x.db'),
      keep: join(state, 'x.db.keep'),
      target: daemonDb,
    });
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        await writeFile(join(state, 'notes', 'n.txt'), `note ${i}`);
        outcomes.push(
          await store()
            .save(state, new MappingSet(MAPPINGS), 'i-1')
            .then(
              () => 'saved',
              (error: Error) => error.message,
            ),
        );
      }
    } finally {
      await swapper.stop();
    }
    for (const outcome of outcomes) expect(outcome).toMatch(/^saved$|changed while it was being saved/);
    expect(await sinkBytes()).not.toContain(DAEMON_SECRET);
  });
});

describe('(b) the store directory swapped for a link to a directory of root-owned victims', () => {
  let victims: string;

  beforeEach(async () => {
    victims = join(root, 'victims');
    await mkdir(victims, { mode: 0o700 });
    database(join(victims, 'x.db'), ['victim']);
    await writeFile(join(victims, 'x.db-wal'), 'victim wal');
    await writeFile(join(victims, 'x.db-shm'), 'victim shm');
  });

  const survived = async () => {
    expect(await readFile(join(victims, 'x.db-wal'), 'utf8')).toBe('victim wal');
    expect(await readFile(join(victims, 'x.db-shm'), 'utf8')).toBe('victim shm');
    expect(rowsOf(join(victims, 'x.db'))).toEqual(['victim']);
  };

  test('between the scan and the backup: the backup fails and the victims survive', async () => {
    await withVolume(async (volume) => {
      const scan = await scanState(volume, new MappingSet(MAPPINGS));
      await rename(join(state, 'store'), join(state, 'store.real'));
      await symlink(victims, join(state, 'store'));
      await expect(copyDatabases(volume, scan.files, () => true, DEFAULT_SQLITE_BACKUP)).rejects.toThrow(
        'store/x.db changed while it was being saved',
      );
    });
    await survived();
  });

  test('raced by a swapper: 20 saves while store flips to the link; the victims survive', async () => {
    const swapper = await startSwapper({
      kind: 'dir',
      live: join(state, 'store'),
      keep: join(state, 'store.real'),
      target: victims,
    });
    try {
      for (let i = 0; i < 20; i++) {
        database(join(state, 'notes', `db-${i}.db`), [`row ${i}`]);
        // A save the swapper disturbs may fail ("changed while it was being saved"); what matters is
        // what reaches the sink, checked below.
        await store()
          .save(state, new MappingSet(MAPPINGS), 'i-1')
          .catch(() => undefined);
      }
    } finally {
      await swapper.stop();
    }
    await survived();
  });
});

describe('(c) a regular file swapped between the scan and the read', () => {
  const scanThen = async (swap: () => Promise<void>) =>
    withVolume(async (volume) => {
      const scan = await scanState(volume, new MappingSet(MAPPINGS));
      const note = scan.files.find((file) => file.path === 'notes/n.txt');
      if (note === undefined) throw new Error('the scan did not see notes/n.txt');
      await swap();
      return openCaptured(volume, note).then(async (handle) => {
        const content = await handle.readFile('utf8');
        await handle.close();
        return content;
      });
    });

  test('for a link to a host file: the read fails, the host file is not read', async () => {
    const read = scanThen(async () => {
      await unlink(join(state, 'notes', 'n.txt'));
      await symlink(secretFile, join(state, 'notes', 'n.txt'));
    });
    await expect(read).rejects.toThrow('notes/n.txt: changed while it was being saved');
  });

  test('for a FIFO: the read fails at once instead of waiting for a writer', async () => {
    const read = scanThen(async () => {
      await unlink(join(state, 'notes', 'n.txt'));
      await exec('mkfifo', [join(state, 'notes', 'n.txt')]);
    });
    await expect(read).rejects.toThrow('notes/n.txt: changed while it was being saved');
  });

  test('for another file (another inode) of the same name: the read fails', async () => {
    const read = scanThen(async () => {
      await writeFile(join(state, 'notes', 'other.txt'), 'swapped in');
      await rename(join(state, 'notes', 'other.txt'), join(state, 'notes', 'n.txt'));
    });
    await expect(read).rejects.toThrow('notes/n.txt: changed while it was being saved');
  });

  test('for its directory swapped for a link to a host directory: never the host file', async () => {
    await writeFile(join(root, 'daemon', 'n.txt'), HOST_SECRET);
    const swap = async () => {
      await rename(join(state, 'notes'), join(state, 'notes.real'));
      await symlink(join(root, 'daemon'), join(state, 'notes'));
    };
    await withVolume(async (volume) => {
      const scan = await scanState(volume, new MappingSet(MAPPINGS));
      const note = scan.files.find((file) => file.path === 'notes/n.txt');
      if (note === undefined) throw new Error('the scan did not see notes/n.txt');
      await swap();
      // The directory the scan opened is still open: the read finds the very file the scan saw, moved.
      const handle = await openCaptured(volume, note);
      expect(await handle.readFile('utf8')).toBe('tenant note');
      await handle.close();
      // Looked up afresh, the link is refused.
      await withVolume(async (fresh) => {
        const read = openCaptured(fresh, note);
        await expect(read).rejects.toThrow('notes/n.txt: changed while it was being saved');
        await expect(read).rejects.toHaveProperty('cause.message', 'notes: is a symbolic link; not followed');
      });
    });
  });

  test('through a whole save: it fails and HEAD stays the previous save', async () => {
    expect(await store().save(state, new MappingSet(MAPPINGS), 'i-1')).toMatchObject({ seq: 1 });
    await writeFile(join(state, 'notes', 'n.txt'), 'changed note');
    const swapped = store({
      _afterScan: async () => {
        await unlink(join(state, 'notes', 'n.txt'));
        await symlink(secretFile, join(state, 'notes', 'n.txt'));
      },
    });
    await expect(swapped.save(state, new MappingSet(MAPPINGS), 'i-1')).rejects.toThrow(
      'notes/n.txt: changed',
    );
    expect(await store().head()).toBe(1);
    expect(await sinkBytes()).not.toContain(HOST_SECRET);
  });

  test('raced by a swapper: 20 saves while n.txt flips to a link to a host file; none holds it', async () => {
    const swapper = await startSwapper({
      kind: 'file',
      live: join(state, 'notes', 'n.txt'),
      keep: join(state, 'n.txt.keep'),
      target: secretFile,
    });
    try {
      for (let i = 0; i < 20; i++) {
        await writeFile(join(state, 'notes', `i-${i}`), `${i}`);
        // A save the swapper disturbs may fail ("changed while it was being saved"); what matters is
        // what reaches the sink, checked below.
        await store()
          .save(state, new MappingSet(MAPPINGS), 'i-1')
          .catch(() => undefined);
      }
    } finally {
      await swapper.stop();
    }
    expect(await sinkBytes()).not.toContain(HOST_SECRET);
  });
});

describe('(d) restore into a volume holding links', () => {
  test('a directory that is a link to outside: the restore fails and nothing is written outside', async () => {
    await store().save(state, new MappingSet(MAPPINGS), 'i-1');
    const target = join(root, 'target');
    const outside = join(root, 'outside');
    await mkdir(target);
    await mkdir(outside);
    await symlink(outside, join(target, 'notes'));
    await expect(store().restore(target, new MappingSet(MAPPINGS))).rejects.toThrow(
      'notes: is a symbolic link; not followed',
    );
    expect(await readdir(outside)).toEqual([]);
  });

  test('a file that is a link to outside: the restore fails and the outside file is untouched', async () => {
    await store().save(state, new MappingSet(MAPPINGS), 'i-1');
    const target = join(root, 'target');
    await mkdir(join(target, 'notes'), { recursive: true });
    await symlink(secretFile, join(target, 'notes', 'n.txt'));
    await expect(store().restore(target, new MappingSet(MAPPINGS))).rejects.toThrow('notes/n.txt');
    expect(await readFile(secretFile, 'utf8')).toBe(HOST_SECRET);
  });

  test('created files and directories belong to the owner, with the saved mode and times', async () => {
    await chmod(join(state, 'notes', 'n.txt'), 0o640);
    await store().save(state, new MappingSet(MAPPINGS), 'i-1');
    const target = join(root, 'target');
    await mkdir(target);
    await store().restore(target, new MappingSet(MAPPINGS), { owner: { uid: 1234, gid: 4321 } });
    const dir = await lstat(join(target, 'notes'));
    const file = await lstat(join(target, 'notes', 'n.txt'));
    expect([dir.uid, dir.gid, file.uid, file.gid, file.mode & 0o7777]).toEqual([
      1234, 4321, 1234, 4321, 0o640,
    ]);
    expect(Math.round(file.mtimeMs)).toBe(Math.round((await stat(join(state, 'notes', 'n.txt'))).mtimeMs));
  });
});

test('(e) files that merely end in -wal, -shm or -journal are saved; the side files of a real database are not', async () => {
  await writeFile(join(state, 'notes', 'travel-journal'), 'Lisbon, day 1');
  await writeFile(join(state, 'notes', 'notes-wal'), 'a wall of notes');
  await writeFile(join(state, 'notes', 'fake.db'), 'not a database');
  await writeFile(join(state, 'notes', 'fake.db-shm'), 'not a side file');
  const tenant = new DatabaseSync(join(state, 'notes', 'real.db'));
  try {
    tenant.exec(
      'PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (a); INSERT INTO t VALUES (1)',
    );
    await store().save(state, new MappingSet(MAPPINGS), 'i-1');
  } finally {
    tenant.close();
  }
  const paths = (await store().manifest(1)).files.map((file) => file.path);
  expect(paths.filter((path) => path.startsWith('notes/'))).toEqual([
    'notes/fake.db',
    'notes/fake.db-shm',
    'notes/n.txt',
    'notes/notes-wal',
    'notes/real.db',
    'notes/travel-journal',
  ]);
});

test('(f) a directory the daemon cannot read fails the save, and the previous save stays HEAD', async () => {
  await mkdir(join(state, 'notes', 'locked'));
  await writeFile(join(state, 'notes', 'locked', 'kept.txt'), 'must not be dropped');
  expect(await store().save(state, new MappingSet(MAPPINGS), 'i-1')).toMatchObject({ seq: 1 });
  await chmod(join(state, 'notes', 'locked'), 0);
  // A daemon without the capabilities that let root read anything gets EACCES, as on a real I/O error.
  const module = (name: string) => JSON.stringify(new URL(name, import.meta.url).pathname);
  const script = `
    import { SnapshotStore } from ${module('./snapshots.ts')};
    import { MappingSet } from ${module('./mappings.ts')};
    import { LocalSink } from ${module('./sinks/local.ts')};
    const store = new SnapshotStore(new LocalSink(${JSON.stringify(join(root, 'sink'))}), ${JSON.stringify(base)});
    await store.save(${JSON.stringify(state)}, new MappingSet(${JSON.stringify(MAPPINGS)}), 'i-1').then(
      (result) => console.log(JSON.stringify(result)),
      (error) => console.log(JSON.stringify({ error: error.message })),
    );
  `;
  const { stdout } = await exec('setpriv', [
    '--bounding-set=-dac_override,-dac_read_search',
    process.execPath,
    '--input-type=module',
    '-e',
    script,
  ]);
  expect(JSON.parse(stdout)).toEqual({ error: expect.stringContaining('notes/locked') });
  expect(JSON.parse(stdout).error).toContain('EACCES');
  expect(await store().head()).toBe(1);
  expect((await store().manifest(1)).files.map((file) => file.path)).toContain('notes/locked/kept.txt');
});

describe('(g) SQLite in WAL mode', () => {
  test('a consistent copy with uncheckpointed writes while another connection writes', async () => {
    const path = join(state, 'store', 'live.db');
    const setup = new DatabaseSync(path);
    setup.exec('PRAGMA journal_mode = WAL; CREATE TABLE a (n); CREATE TABLE b (n)');
    setup.close();
    await chown(path, TENANT, TENANT);
    // The tenant's writer, in its own process: every transaction adds one row to each table.
    const writer = execFile(
      process.execPath,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite');
       const db = new DatabaseSync(${JSON.stringify(path)});
       db.exec('PRAGMA wal_autocheckpoint = 0');
       for (let i = 0; ; i++) {
         db.exec('BEGIN; INSERT INTO a VALUES (' + i + '); INSERT INTO b VALUES (' + i + '); COMMIT');
         if (i === 500) process.stdout.write('ready\\n');
       }`,
      ],
      { uid: TENANT, gid: TENANT },
    );
    try {
      await new Promise((resolve) => writer.stdout?.once('data', resolve));
      await store().save(state, new MappingSet(MAPPINGS), 'i-1');
    } finally {
      writer.kill('SIGKILL');
    }
    const copy = join(root, 'copy');
    await mkdir(copy);
    await store().restore(
      copy,
      new MappingSet([{ path: 'store', direction: 'bidirectional', mode: 'copy' }]),
    );
    const db = new DatabaseSync(join(copy, 'store', 'live.db'), { readOnly: true });
    try {
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      const { a, b } = db
        .prepare('SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b')
        .get() as {
        a: number;
        b: number;
      };
      // At least the 501 transactions committed (to the WAL only) before the save began; never half of one.
      expect(a).toBeGreaterThan(500);
      expect(b).toBe(a);
    } finally {
      db.close();
    }
  });

  test('side files the backup creates belong to the volume owner, and none is deleted', async () => {
    const path = join(state, 'store', 'wal.db');
    const setup = new DatabaseSync(path);
    setup.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (body); INSERT INTO t VALUES (1)');
    setup.close();
    await chown(path, TENANT, TENANT);
    await store().save(state, new MappingSet(MAPPINGS), 'i-1');
    for (const name of await readdir(join(state, 'store'))) {
      expect([name, (await lstat(join(state, 'store', name))).uid]).toEqual([name, TENANT]);
    }
  });

  test('a tenant holding a lock forever fails the save after the timeout instead of hanging it', async () => {
    const path = join(state, 'store', 'locked.db');
    database(path, ['locked']);
    await chown(path, TENANT, TENANT);
    const holder = execFile(
      process.execPath,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite');
       const db = new DatabaseSync(${JSON.stringify(path)});
       db.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE');
       process.stdout.write('locked\\n');
       setInterval(() => {}, 1000);`,
      ],
      { uid: TENANT, gid: TENANT },
    );
    try {
      await new Promise((resolve) => holder.stdout?.once('data', resolve));
      const impatient = store({ sqliteBackup: { ...DEFAULT_SQLITE_BACKUP, timeoutMs: 1_000 } });
      await expect(impatient.save(state, new MappingSet(MAPPINGS), 'i-1')).rejects.toThrow(
        'store/locked.db: the SQLite backup did not finish within 1000 ms',
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
