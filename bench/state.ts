/**
 * Saving and restoring tenant state through the snapshot store into an S3 sink (a real s3rver on
 * loopback), next to `rclone sync` of the same tree to the same server in the same run:
 *
 *   (a) 2,000 files of 4 KiB (20 directories of 100);
 *   (b) one 200 MiB file;
 *   (c) a 100 MiB SQLite database in WAL mode while a writer keeps inserting rows during the save;
 *   (d) a second save of the (a) tree with nothing changed.
 *
 * Each figure is the median of --repetitions runs; every run has a fresh tree (fresh random content) and
 * fresh key prefixes, and the bucket is emptied between runs, so both sides always do the real work.
 * Restores go into empty directories and are checked against their source (byte for byte; for (c), with
 * PRAGMA integrity_check).
 *
 *   npm run bench:state -- [--repetitions 5] [--json]
 *
 * Needs rclone on PATH (Debian: apt-get install -y rclone). rclone is configured only through environment
 * variables, never on its command line, and runs without AWS_CA_BUNDLE (which breaks it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { S3Sink as S3SinkSpec, SyncMapping } from '@boilerhouse/spec';
import { saveBase } from '../packages/boilerhouse/src/state/keys.ts';
import { MappingSet } from '../packages/boilerhouse/src/state/mappings.ts';
import { openSink } from '../packages/boilerhouse/src/state/sinks/open.ts';
import { S3Sink } from '../packages/boilerhouse/src/state/sinks/s3.ts';
import {
  S3RVER_CREDENTIALS,
  type S3Server,
  startS3Server,
} from '../packages/boilerhouse/src/state/sinks/s3-server.ts';
import type { Sink } from '../packages/boilerhouse/src/state/sinks/sink.ts';
import { SnapshotStore } from '../packages/boilerhouse/src/state/snapshots.ts';
import { distribution } from './stats.ts';

const { values: flags } = parseArgs({
  options: { repetitions: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const repetitions = Number(flags.repetitions);
if (!Number.isInteger(repetitions) || repetitions < 1) {
  process.stderr.write(`--repetitions must be a whole number of at least 1, not ${flags.repetitions}\n`);
  process.exit(1);
}
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

const KIB = 1024;
const MIB = 1024 * KIB;
const SMALL_DIRS = 20;
const SMALL_FILES_PER_DIR = 100;
const SMALL_FILE_BYTES = 4 * KIB;
const LARGE_FILE_BYTES = 200 * MIB;
const DATABASE_BYTES = 100 * MIB;
/** One row per 4 KiB page: the database is DATABASE_BYTES of rows, plus a few interior pages. */
const DATABASE_ROW_BYTES = 4000;
/** The writer inserts one row of this size per transaction, then pauses (at most ~1,000 rows/s). */
const WRITER_ROW_BYTES = KIB;
const WRITER_PAUSE_MS = 1;

const RCLONE_FLAGS = ['--transfers', '8', '--checkers', '16'];
/** For (c) only: the live database changes while rclone reads it, which rclone otherwise refuses. */
const RCLONE_LIVE_FLAGS = ['--local-no-check-updated'];
const WHOLE_VOLUME = new MappingSet([
  { path: '.', direction: 'bidirectional', mode: 'sync' },
] satisfies SyncMapping[]);

/** The caller's environment for rclone: without AWS_CA_BUNDLE, and without the caller's own RCLONE_*. */
const rcloneBaseEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'AWS_CA_BUNDLE' && !name.startsWith('RCLONE_')),
);
const version = spawnSync('rclone', ['version'], { env: rcloneBaseEnv, encoding: 'utf8' });
if ((version.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
  process.stderr.write(
    'rclone is not on PATH; this benchmark compares against it. Install it (Debian 12 ships 1.60) with:\n\n' +
      '  apt-get install -y rclone\n\nthen run it again.\n',
  );
  process.exit(2);
}
if (version.error !== undefined || version.status !== 0) {
  throw new Error(`rclone version failed: ${version.error?.message ?? version.stderr}`);
}
const rcloneVersion = version.stdout.split('\n')[0]?.trim() ?? 'rclone';

const startedAt = new Date();
/** The 1-minute load average before and after each repetition: the machine is shared. */
const loads: number[] = [loadavg()[0] as number];
const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-state-'));
let server: S3Server | undefined;
let sink: Sink | undefined;
let rcloneChild: ChildProcess | undefined;
const writers = new Set<Worker>();
let cleaned: Promise<void> | undefined;
/** Stops everything this script started and removes its files; safe to call more than once. */
function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    rcloneChild?.kill('SIGTERM');
    await Promise.all([...writers].map((worker) => worker.terminate()));
    if (sink instanceof S3Sink) sink.destroy();
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  })();
  return cleaned;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

let rcloneEnv: NodeJS.ProcessEnv = rcloneBaseEnv;

/** Runs `rclone <args> --transfers 8 --checkers 16`; returns its wall time in ms. */
async function rclone(args: string[]): Promise<number> {
  settle();
  const started = performance.now();
  const child = spawn('rclone', [...args, ...RCLONE_FLAGS], {
    env: rcloneEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  rcloneChild = child;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const ms = performance.now() - started;
  rcloneChild = undefined;
  if (code !== 0) throw new Error(`rclone ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return ms;
}

/** Flushes dirty pages (`sync`) before each timed step: no step pays for writing back what came before it. */
function settle(): void {
  const done = spawnSync('sync', { stdio: 'ignore' });
  if (done.error !== undefined || done.status !== 0) throw new Error('sync failed');
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  settle();
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

async function emptyDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return path;
}

async function smallTree(dir: string): Promise<void> {
  for (let d = 0; d < SMALL_DIRS; d++) {
    const sub = await emptyDir(join(dir, `dir-${d}`));
    await Promise.all(
      Array.from({ length: SMALL_FILES_PER_DIR }, (_, f) =>
        writeFile(join(sub, `file-${f}.bin`), randomBytes(SMALL_FILE_BYTES)),
      ),
    );
  }
}

async function largeFile(path: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(8 * MIB);
    for (let written = 0; written < LARGE_FILE_BYTES; written += chunk.length) {
      randomFillSync(chunk);
      await handle.write(chunk, 0, Math.min(chunk.length, LARGE_FILE_BYTES - written));
    }
  } finally {
    await handle.close();
  }
}

function database(path: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
    db.exec('BEGIN');
    for (let row = 0; row < DATABASE_BYTES / (4 * KIB); row++) insert.run(randomBytes(DATABASE_ROW_BYTES));
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

/** The writer thread: one row per transaction, as an application would, until told to stop. */
const WRITER = `
const { workerData } = require('node:worker_threads');
const { randomBytes } = require('node:crypto');
const { DatabaseSync } = require('node:sqlite');
const control = new Int32Array(workerData.control);
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL');
const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
while (Atomics.load(control, 0) === 0) {
  insert.run(randomBytes(${WRITER_ROW_BYTES}));
  Atomics.add(control, 1, 1);
  Atomics.wait(control, 0, 0, ${WRITER_PAUSE_MS});
}
db.close();
`;

/** Runs `work` while the writer inserts into the database at `path`; also returns the rows it inserted. */
async function withWriter<T>(path: string, work: () => Promise<T>): Promise<{ result: T; rows: number }> {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WRITER, { eval: true, workerData: { path, control: control.buffer } });
  writers.add(worker);
  let failure: unknown;
  worker.on('error', (error) => {
    failure = error;
  });
  const stopped = new Promise((resolve) => worker.once('exit', resolve));
  let outcome: { result: T; rows: number };
  try {
    // Started: the database has a live WAL before the work begins.
    while (Atomics.load(control, 1) < 20 && failure === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const before = Atomics.load(control, 1);
    const result = await work();
    outcome = { result, rows: Atomics.load(control, 1) - before };
  } finally {
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    await stopped;
    writers.delete(worker);
  }
  if (failure !== undefined) throw failure;
  return outcome;
}

interface Integrity {
  check: string;
  rows: number | undefined;
}

function integrity(path: string): Integrity {
  try {
    const db = new DatabaseSync(path);
    try {
      // integrity_check reports at most 100 problems.
      const problems = db
        .prepare('PRAGMA integrity_check')
        .all()
        .flatMap((row) => String(Object.values(row)[0]).split('\n'))
        .filter((line) => line !== '' && !line.startsWith('*** in database'));
      const check =
        problems.join() === 'ok'
          ? 'ok'
          : `${problems.length}${problems.length >= 100 ? '+' : ''} problem${problems.length === 1 ? '' : 's'}, first: ${problems[0]}`;
      const count = db.prepare('SELECT count(*) AS n FROM rows').get() as { n: number };
      return { check, rows: count.n };
    } finally {
      db.close();
    }
  } catch (error) {
    return { check: `failed: ${(error as Error).message}`, rows: undefined };
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Throws unless `copy` holds exactly the files of `source`, with the same content. */
async function checkSameTree(source: string, copy: string, what: string): Promise<void> {
  const [expected, found] = await Promise.all([filesBelow(source), filesBelow(copy)]);
  if (JSON.stringify(expected) !== JSON.stringify(found)) {
    throw new Error(`${what}: restored ${found.length} files, expected ${expected.length}`);
  }
  for (const path of expected) {
    const [a, b] = await Promise.all([hashFile(join(source, path)), hashFile(join(copy, path))]);
    if (a !== b) throw new Error(`${what}: ${path} differs from its source`);
  }
}

type Row = 'a-save' | 'a-restore' | 'b-save' | 'b-restore' | 'c-save' | 'c-restore' | 'd';
const ROWS: Record<Row, { label: string; target: string; met: (ours: number, rclone: number) => boolean }> = {
  'a-save': {
    label: '(a) 2,000 x 4 KiB: save (upload)',
    target: '<= 1/3 of rclone',
    met: (o, r) => o * 3 <= r,
  },
  'a-restore': {
    label: '(a) 2,000 x 4 KiB: restore (download)',
    target: '<= 1/3 of rclone',
    met: (o, r) => o * 3 <= r,
  },
  'b-save': { label: '(b) 1 x 200 MiB: save', target: '<= rclone', met: (o, r) => o <= r },
  'b-restore': { label: '(b) 1 x 200 MiB: restore', target: '<= rclone', met: (o, r) => o <= r },
  'c-save': { label: '(c) SQLite 100 MiB + writer: save', target: '<= rclone', met: (o, r) => o <= r },
  'c-restore': { label: '(c) SQLite 100 MiB: restore', target: '<= rclone', met: (o, r) => o <= r },
  d: { label: '(d) second save of (a), unchanged', target: '< 100 ms', met: (o) => o < 100 },
};
const times = Object.fromEntries(
  Object.keys(ROWS).map((row) => [row, { ours: [] as number[], rclone: [] as number[] }]),
) as Record<Row, { ours: number[]; rclone: number[] }>;
const sqlite = {
  initialRows: DATABASE_BYTES / (4 * KIB),
  writerRowsDuringSave: { ours: [] as number[], rclone: [] as number[] },
  restoredIntegrity: { ours: [] as Integrity[], rclone: [] as Integrity[] },
};

/** Ours and rclone on one scenario, alternating which goes first so neither always meets a warmer cache. */
async function bothSides(repetition: number, ours: () => Promise<void>, theirs: () => Promise<void>) {
  const sides = repetition % 2 === 0 ? [ours, theirs] : [theirs, ours];
  for (const side of sides) await side();
  // Every run starts from an empty bucket (s3rver's listings grow with what it holds).
  if (sink !== undefined) await sink.delete(await sink.list(''));
}

try {
  server = await startS3Server('bench-state');
  const s3 = server;
  const spec: S3SinkSpec = {
    type: 's3',
    bucket: s3.bucket,
    region: 'us-east-1',
    prefix: 'ours/${tenantId}/',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: { env: 'BENCH_S3_ACCESS_KEY_ID' },
      secretAccessKey: { env: 'BENCH_S3_SECRET_ACCESS_KEY' },
    },
  };
  const bucketSink = openSink(spec, {
    dataDir: root,
    env: {
      BENCH_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      BENCH_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
  });
  sink = bucketSink;
  /** A store as the daemon makes one per operation: shared sink (and connections), no cached manifests. */
  const store = (tenant: string) => new SnapshotStore(bucketSink, saveBase(spec.prefix, tenant, 'bench'));

  await writeFile(join(root, 'rclone.conf'), '');
  rcloneEnv = {
    ...rcloneBaseEnv,
    RCLONE_CONFIG: join(root, 'rclone.conf'),
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENV_AUTH: 'false',
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    RCLONE_CONFIG_BENCH_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  const remote = (name: string) => `bench:${s3.bucket}/rclone/${name}`;

  for (let rep = 0; rep < repetitions; rep++) {
    const run = join(root, `run-${rep}`);
    say(`repetition ${rep + 1} of ${repetitions}: (a) and (d)...`);
    const small = join(run, 'a');
    await smallTree(small);
    await bothSides(
      rep,
      async () => {
        const saved = await timed(() => store(`a-${rep}`).save(small, WHOLE_VOLUME, 'bench'));
        if (saved.result.uploadedFiles !== SMALL_DIRS * SMALL_FILES_PER_DIR) {
          throw new Error(`(a) uploaded ${saved.result.uploadedFiles} files`);
        }
        const again = await timed(() => store(`a-${rep}`).save(small, WHOLE_VOLUME, 'bench'));
        if (again.result.changed) throw new Error('(d) the second save of an unchanged tree wrote a save');
        const target = await emptyDir(join(run, 'a-ours'));
        const restored = await timed(() => store(`a-${rep}`).restore(target, WHOLE_VOLUME));
        await checkSameTree(small, target, '(a) our restore');
        times['a-save'].ours.push(saved.ms);
        times.d.ours.push(again.ms);
        times['a-restore'].ours.push(restored.ms);
      },
      async () => {
        times['a-save'].rclone.push(await rclone(['sync', small, remote(`a-${rep}`)]));
        times.d.rclone.push(await rclone(['sync', small, remote(`a-${rep}`)]));
        const target = await emptyDir(join(run, 'a-rclone'));
        times['a-restore'].rclone.push(await rclone(['sync', remote(`a-${rep}`), target]));
        await checkSameTree(small, target, '(a) rclone');
      },
    );

    say(`repetition ${rep + 1} of ${repetitions}: (b)...`);
    const large = await emptyDir(join(run, 'b'));
    await largeFile(join(large, 'large.bin'));
    await bothSides(
      rep,
      async () => {
        times['b-save'].ours.push(
          (await timed(() => store(`b-${rep}`).save(large, WHOLE_VOLUME, 'bench'))).ms,
        );
        const target = await emptyDir(join(run, 'b-ours'));
        times['b-restore'].ours.push((await timed(() => store(`b-${rep}`).restore(target, WHOLE_VOLUME))).ms);
        await checkSameTree(large, target, '(b) our restore');
      },
      async () => {
        times['b-save'].rclone.push(await rclone(['sync', large, remote(`b-${rep}`)]));
        const target = await emptyDir(join(run, 'b-rclone'));
        times['b-restore'].rclone.push(await rclone(['sync', remote(`b-${rep}`), target]));
        await checkSameTree(large, target, '(b) rclone');
      },
    );
    await rm(join(run, 'b'), { recursive: true, force: true });
    await rm(join(run, 'b-ours'), { recursive: true, force: true });
    await rm(join(run, 'b-rclone'), { recursive: true, force: true });

    say(`repetition ${rep + 1} of ${repetitions}: (c)...`);
    const live = await emptyDir(join(run, 'c'));
    database(join(live, 'app.db'));
    await bothSides(
      rep,
      async () => {
        const { result, rows } = await withWriter(join(live, 'app.db'), () =>
          timed(() => store(`c-${rep}`).save(live, WHOLE_VOLUME, 'bench')),
        );
        const target = await emptyDir(join(run, 'c-ours'));
        const restored = await timed(() => store(`c-${rep}`).restore(target, WHOLE_VOLUME));
        const files = await filesBelow(target);
        if (JSON.stringify(files) !== '["app.db"]') throw new Error(`(c) restored ${files.join(', ')}`);
        times['c-save'].ours.push(result.ms);
        times['c-restore'].ours.push(restored.ms);
        sqlite.writerRowsDuringSave.ours.push(rows);
        sqlite.restoredIntegrity.ours.push(integrity(join(target, 'app.db')));
      },
      async () => {
        const { result, rows } = await withWriter(join(live, 'app.db'), () =>
          rclone(['sync', live, remote(`c-${rep}`), ...RCLONE_LIVE_FLAGS]),
        );
        const target = await emptyDir(join(run, 'c-rclone'));
        times['c-save'].rclone.push(result);
        times['c-restore'].rclone.push(await rclone(['sync', remote(`c-${rep}`), target]));
        sqlite.writerRowsDuringSave.rclone.push(rows);
        sqlite.restoredIntegrity.rclone.push(integrity(join(target, 'app.db')));
      },
    );
    await rm(run, { recursive: true, force: true });
    loads.push(loadavg()[0] as number);
  }
} finally {
  await cleanup();
}

const median = (values: number[]) => distribution(values).p50;
interface Result {
  label: string;
  oursMs: number;
  rcloneMs: number;
  ratio: number;
  target: string;
  met: boolean;
  runs: { ours: number[]; rclone: number[] };
}
const results = {} as Record<Row, Result>;
for (const row of Object.keys(ROWS) as Row[]) {
  const ours = median(times[row].ours);
  const theirs = median(times[row].rclone);
  const { label, target, met } = ROWS[row];
  results[row] = {
    label,
    oursMs: ours,
    rcloneMs: theirs,
    ratio: ours / theirs,
    target,
    met: met(ours, theirs),
    runs: times[row],
  };
}
const s3rverVersion = (
  JSON.parse(await readFile(new URL('../node_modules/s3rver/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
const rcloneCommand = `rclone sync SRC DST ${RCLONE_FLAGS.join(' ')} (plus ${RCLONE_LIVE_FLAGS.join(' ')} for (c)'s upload)`;

if (flags.json) {
  console.log(
    JSON.stringify(
      {
        repetitions,
        startedAt: startedAt.toISOString(),
        loadAverages: loads,
        statistic: 'median',
        s3rver: s3rverVersion,
        rclone: { version: rcloneVersion, command: rcloneCommand },
        results,
        sqlite,
      },
      null,
      2,
    ),
  );
} else {
  const range = (values: number[]) => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
  const header = ['', 'ours ms', 'rclone ms', 'ours / rclone', 'ours range', 'rclone range', 'target', 'met'];
  const lines = Object.values(results).map((r) => [
    r.label,
    r.oursMs.toFixed(1),
    r.rcloneMs.toFixed(1),
    r.ratio.toFixed(3),
    range(r.runs.ours),
    range(r.runs.rclone),
    r.target,
    r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...lines].map((line) => (line[column] ?? '').length)),
  );
  const pad = (line: string[]) =>
    line
      .map((cell, column) =>
        column === 0 || column >= 6 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  console.log([header, ...lines].map(pad).join('\n'));
  const list = (values: Integrity[]) =>
    values.map((value) => `${value.check} (${value.rows ?? '?'} rows)`).join(', ');
  console.log(
    [
      '',
      `median of ${repetitions} repetitions, each on a fresh tree and fresh prefixes; s3rver ${s3rverVersion} on 127.0.0.1`,
      `${rcloneVersion}: ${rcloneCommand}, configured by environment only`,
      `restored trees of (a) and (b), ours and rclone's, compared file by file with their sources: identical`,
      `(c) writer rows (${WRITER_ROW_BYTES} B, one per transaction) inserted during the save, per run: ours ${sqlite.writerRowsDuringSave.ours.join(', ')}; rclone ${sqlite.writerRowsDuringSave.rclone.join(', ')}`,
      `(c) PRAGMA integrity_check of our restored database: ${list(sqlite.restoredIntegrity.ours)}`,
      `(c) PRAGMA integrity_check of rclone's restored copy: ${list(sqlite.restoredIntegrity.rclone)}`,
      `started ${startedAt.toISOString()}; load average (1 min) ${loads.map((load) => load.toFixed(1)).join(', ')} (before the first repetition and after each)`,
    ].join('\n'),
  );
}
