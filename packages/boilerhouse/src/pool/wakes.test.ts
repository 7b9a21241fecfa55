/**
 * Scheduled wakes on the real engine (pool.wake): a released tenant is claimed at the time its wake file
 * names, or every so often; the idle release lets it go again; a wake missed while the daemon was down
 * runs at its start; a wake file the tenant made into a trap is refused and never read through.
 */
import { execFile } from 'node:child_process';
import { rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import type { ActivityEvent } from '../db/events.ts';
import { listWakes } from '../db/wakes.ts';
import { Metrics } from '../metrics/metrics.ts';
import { testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';

const run = promisify(execFile);
const harnesses: Harness[] = [];

afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

/** Echo with no warm instances, an idle release (2 s unless given), and the given `pool.wake` lines. */
async function wakingHarness(wake: string, idleTtl = '2s'): Promise<Harness> {
  const harness = await startHarness({
    'echo.yaml': await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'interval: 30s': 'interval: 1h',
      'file_idle_ttl: 5m': `file_idle_ttl: ${idleTtl}\n  wake:\n${wake}`,
    }),
  });
  harnesses.push(harness);
  return harness;
}

function stateDir(harness: Harness, instance: string): string {
  return join(harness.dataDir, 'instances', instance, 'volumes', 'state');
}

function eventsOf(harness: Harness, tenant: string, type: ActivityEvent['type']): ActivityEvent[] {
  return harness.boilerhouse
    .events(1000)
    .filter((event) => event.tenant === tenant && event.type === type)
    .reverse();
}

/** The tenant's tenant.woken events, once there are at least `count`. */
function woken(harness: Harness, tenant: string, count: number): Promise<ActivityEvent[]> {
  return waitFor(
    () => {
      const found = eventsOf(harness, tenant, 'tenant.woken');
      return found.length >= count ? found : undefined;
    },
    30_000,
    `${tenant} woken ${count} time(s)`,
  );
}

function phaseOf(harness: Harness, tenant: string): string | undefined {
  return harness.boilerhouse.tenant(tenant).instances[0]?.phase;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('a time in the wake file: the released tenant is claimed then, counted, listed, and idles out again', async () => {
  const harness = await wakingHarness('    at_file: run/wake-at');
  const metrics = new Metrics(harness.boilerhouse);
  const api = testApi(harness);
  const bh = harness.boilerhouse;
  const alice = await bh.claim('alice', 'echo');
  const dueAt = new Date(Date.now() + 3_000);
  await run('mkdir', [join(stateDir(harness, alice.instance.id), 'run')]);
  await writeFile(join(stateDir(harness, alice.instance.id), 'run', 'wake-at'), `${dueAt.toISOString()}\n`);
  await bh.release('alice', 'echo');

  const upcoming = { workload: 'echo', tenant: 'alice', trigger: 'schedule', due_at: dueAt.toISOString() };
  const shown = await (await api.request('/api/v1/tenants/alice')).json();
  expect(shown.wakes).toEqual([{ ...upcoming, set_at: expect.any(String) }]);
  const listed = await (await api.request('/api/v1/wakes')).json();
  expect(listed.wakes).toEqual([{ ...upcoming, set_at: expect.any(String) }]);
  expect(phaseOf(harness, 'alice')).toBe('reserved');

  const [wake] = await woken(harness, 'alice', 1);
  expect(wake?.data).toMatchObject({ trigger: 'schedule', dueAt: dueAt.toISOString(), path: 'hit' });
  expect(wake?.data?.latencyMs).toBeGreaterThanOrEqual(0);
  const claimedAt = bh.tenant('alice').instances[0]?.claimedAt as number;
  expect(claimedAt).toBeGreaterThanOrEqual(dueAt.getTime());
  expect((await metrics.render()).body).toContain(
    'boilerhouse_scheduled_wakes_total{workload="echo",trigger="schedule",outcome="woken"} 1',
  );

  // The idle release lets it go; the file still names the wake that ran, so none is set again.
  await waitFor(
    () => eventsOf(harness, 'alice', 'instance.released').some((event) => event.id > (wake?.id ?? 0)),
    20_000,
    'alice released for idleness',
  );
  await waitFor(() => phaseOf(harness, 'alice') === 'reserved', 20_000, 'alice reserved');
  expect(listWakes(harness.db)).toEqual([]);
  expect(eventsOf(harness, 'alice', 'tenant.woken')).toHaveLength(1);
  metrics.close();
});

test('a wake due while the daemon is stopped runs at its next start', async () => {
  const harness = await wakingHarness('    at_file: wake-at');
  const bob = await harness.boilerhouse.claim('bob', 'echo');
  const dueAt = new Date(Date.now() + 1_500);
  await writeFile(join(stateDir(harness, bob.instance.id), 'wake-at'), dueAt.toISOString());
  await harness.boilerhouse.release('bob', 'echo');
  await harness.boilerhouse.stop();
  // Past the due time with no daemon running.
  await sleep(dueAt.getTime() - Date.now() + 1_000);
  expect(listWakes(harness.db)).toMatchObject([{ tenant: 'bob', dueAt: dueAt.getTime() }]);
  expect(eventsOf(harness, 'bob', 'tenant.woken')).toEqual([]);

  const restarted = await harness.restart();
  const [wake] = await woken(harness, 'bob', 1);
  const started = restarted.events(1000).find((event) => event.type === 'daemon.started');
  expect(wake?.id).toBeGreaterThan(started?.id as number);
  expect(wake?.data).toMatchObject({ trigger: 'schedule', dueAt: dueAt.toISOString() });
  expect(wake?.data?.latencyMs).toBeGreaterThan(1_000);
});

test('a wake file made into a link, a FIFO, a huge file or garbage is refused at the save: nothing read through it, nothing scheduled', async () => {
  // No idle release in the middle of the test's own claims and releases.
  const harness = await wakingHarness('    at_file: wake-at', '5m');
  const bh = harness.boilerhouse;
  const outside = join(harness.dataDir, '..', 'outside-wake-at');
  // Were the link followed, this would schedule a wake.
  await writeFile(outside, new Date(Date.now() + 3_600_000).toISOString());
  const traps: Array<[string, (path: string) => Promise<unknown>, RegExp]> = [
    ['a link to /etc/shadow', (path) => symlink('/etc/shadow', path), /symbolic link/],
    ['a link to a valid time outside', (path) => symlink(outside, path), /symbolic link/],
    ['a FIFO', (path) => run('mkfifo', [path]), /not a regular file/],
    [
      'a 10 MiB file',
      async (path) => {
        await writeFile(path, '');
        await truncate(path, 10 * 1024 * 1024);
      },
      /10485760 bytes/,
    ],
    ['garbage', (path) => writeFile(path, 'next tuesday\u0000\u0001'), /not an RFC 3339 time/],
  ];
  const claim = await bh.claim('carol', 'echo');
  const path = join(stateDir(harness, claim.instance.id), 'wake-at');
  for (const [what, make, reason] of traps) {
    // A wake set first, so that the refusal is seen to clear it.
    await writeFile(path, new Date(Date.now() + 3_600_000).toISOString());
    await bh.sync('carol', 'echo', 'upload');
    expect(listWakes(harness.db), what).toHaveLength(1);
    await rm(path);
    await make(path);
    const before = eventsOf(harness, 'carol', 'tenant.wake_refused').length;
    await bh.release('carol', 'echo');
    const refused = eventsOf(harness, 'carol', 'tenant.wake_refused');
    expect(refused, what).toHaveLength(before + 1);
    expect(refused.at(-1)?.data, what).toMatchObject({
      file: 'wake-at',
      reason: expect.stringMatching(reason),
    });
    expect(listWakes(harness.db), what).toEqual([]);
    await bh.claim('carol', 'echo');
    await rm(path);
  }
});

test('every: a released tenant is claimed again and again, each time let go by the idle release', async () => {
  const harness = await wakingHarness('    every: 2s');
  const metrics = new Metrics(harness.boilerhouse);
  const bh = harness.boilerhouse;
  await bh.claim('dave', 'echo');
  await bh.release('dave', 'echo');
  expect(bh.tenant('dave').wakes).toMatchObject([{ trigger: 'every' }]);

  const wakes = await woken(harness, 'dave', 2);
  expect(wakes.map((event) => event.data?.trigger)).toEqual(['every', 'every']);
  const released = eventsOf(harness, 'dave', 'instance.released');
  // Let go between the two wakes: a release after the first wake and before the second.
  expect(released.some((event) => event.id > (wakes[0]?.id ?? 0) && event.id < (wakes[1]?.id ?? 0))).toBe(
    true,
  );
  expect((await metrics.render()).body).toMatch(
    /boilerhouse_scheduled_wakes_total\{workload="echo",trigger="every",outcome="woken"\} [2-9]/,
  );
  metrics.close();
});

test('a wake whose claim fails (the pool full) is counted and tried again until it claims', async () => {
  const harness = await startHarness({
    'echo.yaml': await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'max_size: 10': 'max_size: 1',
      'interval: 30s': 'interval: 1h',
      'file_idle_ttl: 5m': 'file_idle_ttl: 5m\n  wake:\n    at_file: wake-at',
    }),
  });
  harnesses.push(harness);
  const metrics = new Metrics(harness.boilerhouse);
  const bh = harness.boilerhouse;
  const erin = await bh.claim('erin', 'echo');
  await writeFile(
    join(stateDir(harness, erin.instance.id), 'wake-at'),
    new Date(Date.now() + 1_500).toISOString(),
  );
  await bh.release('erin', 'echo');
  // Frank takes the only slot (erin's reservation is saved and evicted), so erin's wake cannot claim.
  await bh.claim('frank', 'echo');
  const failed =
    /boilerhouse_scheduled_wakes_total\{workload="echo",trigger="schedule",outcome="failed"\} [1-9]/;
  await waitFor(async () => failed.test((await metrics.render()).body), 20_000, 'a failed wake counted');
  expect(eventsOf(harness, 'erin', 'tenant.woken')).toEqual([]);
  expect(listWakes(harness.db)).toMatchObject([{ tenant: 'erin', trigger: 'schedule' }]);

  await bh.release('frank', 'echo');
  const [wake] = await woken(harness, 'erin', 1);
  expect(wake?.data?.attempts).toBeGreaterThan(1);
  expect(listWakes(harness.db)).toEqual([]);
  metrics.close();
});
