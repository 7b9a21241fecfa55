/**
 * Issue 15, storage faults: a disk fills up. The local sink's disk (a small tmpfs as the workload's sink
 * folder under `sinks/`), the disk the instances' state volumes live on (a small tmpfs as
 * `<data dir>/instances`), and the disk of the whole data directory, the daemon's database included. Each
 * test mounts its own tmpfs in its own temporary data directory.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Metrics } from '../../packages/boilerhouse/src/metrics/metrics.ts';
import { saveBase } from '../../packages/boilerhouse/src/state/keys.ts';
import { MappingSet } from '../../packages/boilerhouse/src/state/mappings.ts';
import { LocalSink } from '../../packages/boilerhouse/src/state/sinks/local.ts';
import { SnapshotStore } from '../../packages/boilerhouse/src/state/snapshots.ts';
import { testApi } from '../../packages/boilerhouse/src/testing/api.ts';
import {
  counter,
  echoWorkload,
  type Harness,
  startHarness,
  waitFor,
} from '../../packages/boilerhouse/src/testing/harness.ts';
import { promtoolCheck, sampleSum } from './testing/metrics.ts';
import { findOrphans, NO_ORPHANS } from './testing/orphans.ts';
import { mountsUnder, mountTmpfs, type Tmpfs } from './testing/tmpfs.ts';

let harness: Harness | undefined;
let metrics: Metrics | undefined;
let disk: Tmpfs | undefined;
let scratch: string | undefined;

/** True when the harness's whole root (database included) is on `disk`: it is cleaned up before the unmount. */
let rootOnDisk = false;

afterEach(async () => {
  metrics?.close();
  // The daemon lets go of the disk first (its own bind of `instances` on it), then the disk goes; the
  // harness's cleanup runs even when the unmount fails, which then fails the test.
  await harness?.boilerhouse.stop();
  if (rootOnDisk) await harness?.cleanup();
  const unmountError = await disk?.unmount().then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!rootOnDisk) await harness?.cleanup();
  // The whole-disk test's mount point is a directory of its own.
  else if (unmountError === undefined && disk !== undefined) await rm(disk.dir, { recursive: true });
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  harness = metrics = disk = scratch = undefined;
  rootOnDisk = false;
  if (unmountError !== undefined) throw unmountError;
});

const ALICE = 'alice';
const MIB = 1024 * 1024;
const ECHO = {
  'min_idle: 2': 'min_idle: 0',
  'affinity_timeout: 10m': 'affinity_timeout: 0',
  '    interval: 30s': '    interval: 1h',
};

async function counterOnDisk(h: Harness, instance: string): Promise<number> {
  return Number(
    await readFile(join(h.dataDir, 'instances', instance, 'volumes', 'state', 'counter'), 'utf8'),
  );
}

test("issue 15: the local sink's disk full: the save fails and the previous save stays whole; once space is freed the retry saves everything", async () => {
  const h = await startHarness({ 'echo.yaml': await echoWorkload(ECHO) });
  harness = h;
  const bh = h.boilerhouse;
  metrics = new Metrics(bh);
  const sinkDir = join(h.dataDir, 'sinks', 'echo');
  disk = await mountTmpfs(sinkDir, 4 * MIB);

  const first = await bh.claim(ALICE, 'echo');
  const firstUrl = first.endpoints[0]?.url as string;
  expect([await counter(firstUrl), await counter(firstUrl)]).toEqual([1, 2]);
  await bh.release(ALICE, 'echo');
  const second = await bh.claim(ALICE, 'echo');
  const url = second.endpoints[0]?.url as string;
  expect([await counter(url), await counter(url)]).toEqual([3, 4]);

  await disk.fill();
  const failure = await bh.release(ALICE, 'echo').catch((error: Error & { code?: string }) => error);
  expect(failure).toMatchObject({ code: 'save_failed', message: expect.stringContaining('ENOSPC') });
  expect(bh.tenant(ALICE).instances.map((instance) => instance.phase)).toEqual(['release_failed']);
  expect(await counterOnDisk(h, second.instance.id)).toBe(4);
  const failedSaves = () =>
    bh.events(100).filter((event) => event.type === 'state.failed' && event.data?.why === 'release');
  await waitFor(() => failedSaves().length >= 2, 30_000, 'a retried save');
  expect(failedSaves().map((event) => event.data?.cause)).toEqual(failedSaves().map(() => 'no_space'));

  // The previous save is whole: HEAD still names it and it restores, while the disk is still full.
  scratch = await mkdtemp(join(tmpdir(), 'faults-restore-'));
  const store = new SnapshotStore(new LocalSink(sinkDir), saveBase(undefined, ALICE, 'echo'));
  expect(await store.head()).toBe(1);
  const mappings = new MappingSet([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
  expect(await store.restore(scratch, mappings)).toMatchObject({ seq: 1, files: 1 });
  expect(await readFile(join(scratch, 'counter'), 'utf8')).toBe('2\n');

  await disk.free();
  await waitFor(() => bh.tenant(ALICE).instances.length === 0, 60_000, 'the retried release');
  expect(await store.head()).toBe(2);
  const third = await bh.claim(ALICE, 'echo');
  expect(await counter(third.endpoints[0]?.url as string)).toBe(5);
  expect(await findOrphans(h, { mounts: [sinkDir] })).toEqual(NO_ORPHANS);

  const exposition = (await (metrics as Metrics).render()).body;
  const noSpace = { workload: 'echo', direction: 'save', cause: 'no_space' };
  expect(sampleSum(exposition, 'boilerhouse_state_errors_total', noSpace)).toBeGreaterThanOrEqual(2);
  expect(await promtoolCheck(exposition)).toEqual({ code: 0, output: '' });
});

test("issue 15: the state volumes' disk full: the workload's writes fail in the workload, the daemon goes on serving, the release saves what was acknowledged", async () => {
  const h = await startHarness({ 'echo.yaml': await echoWorkload(ECHO) }, { start: false });
  harness = h;
  const instancesDir = join(h.dataDir, 'instances');
  await mkdir(h.dataDir, { recursive: true, mode: 0o700 });
  disk = await mountTmpfs(instancesDir, 8 * MIB);
  const bh = h.boilerhouse;
  await bh.start();
  metrics = new Metrics(bh);
  const api = testApi(h);

  const first = await bh.claim(ALICE, 'echo');
  expect(await counter(first.endpoints[0]?.url as string)).toBe(1);
  await bh.release(ALICE, 'echo');
  const second = await bh.claim(ALICE, 'echo');
  const url = second.endpoints[0]?.url as string;
  expect(await counter(url)).toBe(2);

  await disk.fill();
  // The workload's write fails in the workload: the tenant is told, nothing is acknowledged.
  const refused = await fetch(`${url}/counter`);
  expect(refused.status).toBe(500);
  expect(await refused.text()).toContain('ENOSPC');
  expect(await counterOnDisk(h, second.instance.id)).toBe(2);
  // The daemon goes on serving: the API answers, and another tenant's claim fails and says why, leaving
  // nothing behind: the mark that says whose data an instance holds (pool/claim-mark.ts) needs a block,
  // and no instance is handed out that a restored backup could not attribute.
  expect((await api.request('/api/v1/pools')).status).toBe(200);
  const bob = await bh.claim('bob', 'echo').catch((error: Error & { code?: string }) => error);
  expect(bob).toMatchObject({ code: 'instance_failed', message: expect.stringContaining('ENOSPC') });
  expect(bh.tenant('bob').instances).toEqual([]);

  // Released while the disk is still full: what was acknowledged is saved, then the instance goes.
  await bh.release(ALICE, 'echo');
  expect(bh.tenant(ALICE).instances).toEqual([]);
  expect((await bh.snapshots(ALICE, 'echo')).head).toBe(2);
  // The space it freed is taken too; a claim now cannot restore onto the full disk: it fails and says
  // why, leaving nothing behind.
  await disk.fill();
  const noRoom = await bh.claim(ALICE, 'echo').catch((error: Error & { code?: string }) => error);
  expect(noRoom).toMatchObject({ code: 'instance_failed', message: expect.stringContaining('ENOSPC') });
  const failedRestore = bh.events(100).find((event) => event.type === 'state.failed');
  expect(failedRestore?.data).toMatchObject({ direction: 'restore', cause: 'no_space' });
  expect(bh.tenant(ALICE).instances).toEqual([]);
  expect(await findOrphans(h, { mounts: [instancesDir] })).toEqual({
    ...NO_ORPHANS,
    directories: ['.fault-ballast'],
  });
  expect((await bh.snapshots(ALICE, 'echo')).head).toBe(2);

  await disk.free();
  const third = await bh.claim(ALICE, 'echo');
  expect(await counter(third.endpoints[0]?.url as string)).toBe(3);
  expect(await findOrphans(h, { mounts: [instancesDir] })).toEqual(NO_ORPHANS);

  const exposition = (await (metrics as Metrics).render()).body;
  const failedClaims = { workload: 'echo', code: 'instance_failed' };
  expect(sampleSum(exposition, 'boilerhouse_claim_errors_total', failedClaims)).toBe(2);
  const noSpace = { workload: 'echo', direction: 'restore', cause: 'no_space' };
  expect(sampleSum(exposition, 'boilerhouse_state_errors_total', noSpace)).toBe(1);
  expect(await promtoolCheck(exposition)).toEqual({ code: 0, output: '' });
  // A daemon that stops with instances running keeps its bind of `instances` (they run on); with none
  // left it lets go of it, and only the test's disk is mounted there.
  for (const instance of bh.instances()) await bh.destroy(instance.id);
  await bh.stop();
  expect(await mountsUnder(h.dataDir)).toEqual([instancesDir]);
});

/** A harness whose whole root (data directory, database, sink and workloads) is made on `disk`. */
function harnessOn(on: Tmpfs, workloads: Record<string, string>): Promise<Harness> {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = on.dir;
  // startHarness takes its root from tmpdir() before it first awaits.
  const started = startHarness(workloads);
  if (before === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = before;
  return started;
}

/** Fills the database's own room too (the WAL reuses its pages), until a write of its fails; returns that error. */
function fillDatabase(h: Harness): Error {
  for (;;) {
    try {
      h.boilerhouse.activity.record({ type: 'pool.warning', workload: 'echo', message: 'x'.repeat(4000) });
    } catch (error) {
      return error as Error;
    }
  }
}

test("issue 15: the whole data directory's disk full, database included: the daemon answers, a claim or release says what it could not write, nothing acknowledged is lost", async () => {
  disk = await mountTmpfs(await mkdtemp(join(tmpdir(), 'faults-data-disk-')), 32 * MIB);
  rootOnDisk = true;
  const h = await harnessOn(disk, { 'echo.yaml': await echoWorkload(ECHO) });
  harness = h;
  const bh = h.boilerhouse;
  metrics = new Metrics(bh);
  const api = testApi(h);

  const first = await bh.claim(ALICE, 'echo');
  expect(await counter(first.endpoints[0]?.url as string)).toBe(1);
  await bh.release(ALICE, 'echo');
  const second = await bh.claim(ALICE, 'echo');
  const url = second.endpoints[0]?.url as string;
  // Acknowledged writes, not yet saved.
  expect([await counter(url), await counter(url)]).toEqual([2, 3]);

  await disk.fill();
  expect(fillDatabase(h).message).toMatch(/full/);
  // The daemon answers.
  expect((await api.request('/api/v1/pools')).status).toBe(200);
  expect((await api.request(`/api/v1/tenants/${ALICE}`)).status).toBe(200);

  // A claim that cannot write its row says so, and the database agrees: bob has nothing.
  const bob = await api.request('/api/v1/tenants/bob/claim', {
    method: 'POST',
    body: JSON.stringify({ workload: 'echo' }),
  });
  expect(bob.status).toBe(507);
  expect((await bob.json()).error).toMatchObject({
    code: 'no_space',
    message: expect.stringMatching(/full/),
  });
  expect(bh.tenant('bob').instances).toEqual([]);
  // So does a release: alice's instance is still hers, with her unsaved writes.
  const refused = await api.request(`/api/v1/tenants/${ALICE}/release`, {
    method: 'POST',
    body: JSON.stringify({ workload: 'echo' }),
  });
  expect(refused.status).toBe(507);
  expect((await refused.json()).error.code).toBe('no_space');
  expect(bh.tenant(ALICE).instances.map((instance) => [instance.id, instance.phase])).toEqual([
    [second.instance.id, 'claimed'],
  ]);
  expect(await counterOnDisk(h, second.instance.id)).toBe(3);
  expect((await bh.snapshots(ALICE, 'echo')).head).toBe(1);
  expect(await findOrphans(h)).toEqual(NO_ORPHANS);

  // Once there is room, the release saves what was acknowledged, and the next claim sees it.
  await disk.free();
  expect(await bh.release(ALICE, 'echo')).toMatchObject({ outcome: 'destroyed' });
  expect((await bh.snapshots(ALICE, 'echo')).head).toBe(2);
  const third = await bh.claim(ALICE, 'echo');
  expect(await counter(third.endpoints[0]?.url as string)).toBe(4);
  expect((await bh.claim('bob', 'echo')).instance.tenant).toBe('bob');
  expect(await findOrphans(h)).toEqual(NO_ORPHANS);
  expect(await promtoolCheck((await (metrics as Metrics).render()).body)).toEqual({ code: 0, output: '' });
});
