/**
 * One restore of the same save, read three ways in the same run, the rounds interleaved: from s3rver on
 * loopback (the baseline: what a host without the cache reads), through this host's cache of the bucket's
 * objects in front of that s3rver (HEAD from the bucket, the rest from disk), and from a local sink. The
 * state is NanoClaw's bench tenant's shape: a 20 MiB file (three chunks) and 12 small files (one pack).
 * Each restore goes through a fresh SnapshotStore into an empty folder, as a claim's does.
 *
 *   npm run bench:state-cache -- [--rounds 40] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MappingSet } from '../packages/boilerhouse/src/state/mappings.ts';
import { CachedSink } from '../packages/boilerhouse/src/state/sinks/cached-sink.ts';
import { LocalSink } from '../packages/boilerhouse/src/state/sinks/local.ts';
import { ObjectCache } from '../packages/boilerhouse/src/state/sinks/object-cache.ts';
import { S3Sink } from '../packages/boilerhouse/src/state/sinks/s3.ts';
import { S3RVER_CREDENTIALS, startS3Server } from '../packages/boilerhouse/src/state/sinks/s3-server.ts';
import type { Sink } from '../packages/boilerhouse/src/state/sinks/sink.ts';
import { SnapshotStore } from '../packages/boilerhouse/src/state/snapshots.ts';
import { distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, json: { type: 'boolean', default: false } },
});
const rounds = Number(flags.rounds);
if (!Number.isSafeInteger(rounds) || rounds < 1)
  throw new Error(`--rounds: a positive integer, got ${flags.rounds}`);
const WARM_UP_ROUNDS = 3;
const BASE = 'bench/nanoclaw/';

const s3 = await startS3Server('bench-state-cache');
const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-state-cache-'));
try {
  const bucket = new S3Sink({
    bucket: s3.bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  const cache = new ObjectCache({ dir: join(root, 'cache'), maxBytes: 1024 ** 3, warn: console.warn });
  const sinks: Record<string, Sink> = {
    's3rver (baseline)': bucket,
    "through this host's cache": new CachedSink(bucket, cache),
    'local sink': new LocalSink(join(root, 'local-sink')),
  };
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
  const state = join(root, 'state');
  await mkdir(join(state, 'groups', 'main'), { recursive: true });
  await writeFile(join(state, 'groups', 'main', 'archive.bin'), randomBytes(20 * 1024 ** 2));
  for (let file = 0; file < 12; file++) await writeFile(join(state, `note-${file}.md`), randomBytes(100_000));
  // The cached sink's save puts into the bucket and the cache at once, as the daemon's does.
  await new SnapshotStore(sinks["through this host's cache"] as Sink, BASE).save(state, mappings, 'bench');
  await new SnapshotStore(sinks['local sink'] as Sink, BASE).save(state, mappings, 'bench');

  const times: Record<string, number[]> = Object.fromEntries(Object.keys(sinks).map((name) => [name, []]));
  const names = Object.keys(sinks);
  for (let round = 0; round < WARM_UP_ROUNDS + rounds; round++) {
    // Each round starts from a different source, so none is always read right after another.
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length] as string;
      const into = join(root, `restore-${round}-${turn}`);
      await mkdir(into);
      const began = performance.now();
      await new SnapshotStore(sinks[name] as Sink, BASE).restore(into, mappings);
      if (round >= WARM_UP_ROUNDS) times[name]?.push(performance.now() - began);
      await rm(into, { recursive: true });
    }
  }
  const results = Object.fromEntries(
    Object.entries(times).map(([name, values]) => [name, distribution(values)]),
  );
  if (flags.json) console.log(JSON.stringify({ rounds, cache: cache.stats(), results }, null, 2));
  else {
    console.log(formatTable(results, results['s3rver (baseline)']?.p50 ?? Number.NaN, ['p50', 'p90', 'max']));
    const { hits, misses } = cache.stats();
    console.log(`the cache: ${hits} objects read from it, ${misses} from the bucket`);
    console.log(
      `load average at the end: ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}`,
    );
  }
} finally {
  await s3.stop();
  await rm(root, { recursive: true, force: true });
}
