/**
 * A container that dies (docker kill, as an OOM kill or a crash would) takes none of its tenant's
 * acknowledged writes with it, on the real engine: saved from the host, then the tenant claimed again.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, onTestFinished, test } from 'vitest';
import { listResumes } from '../db/resumes.ts';
import { Metrics } from '../metrics/metrics.ts';
import {
  counter,
  echoWorkload,
  type Harness,
  instanceDirs,
  startHarness,
  waitFor,
} from '../testing/harness.ts';

const run = promisify(execFile);
const harnesses: Harness[] = [];

afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

/** Echo with no interval saves worth the name: only the death's own save can keep the writes. */
async function echoHarness(extra: Record<string, string> = {}): Promise<Harness> {
  const harness = await startHarness({
    'echo.yaml': await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'interval: 30s': 'interval: 1h',
      ...extra,
    }),
  });
  harnesses.push(harness);
  return harness;
}

function kill(containerId: string | null): Promise<unknown> {
  return run('docker', ['kill', containerId as string]);
}

/** The tenant's claimed instance, once it is a different one from `previous`. */
function claimedAgain(harness: Harness, tenant: string, previous: string) {
  return waitFor(
    () =>
      harness.boilerhouse
        .tenant(tenant)
        .instances.find((instance) => instance.phase === 'claimed' && instance.id !== previous),
    30_000,
    `${tenant} claimed again`,
  );
}

test('a claimed container killed: its writes are saved from the host and its tenant is claimed again', async () => {
  const harness = await echoHarness();
  const bh = harness.boilerhouse;
  const alice = await bh.claim('alice', 'echo');
  for (let i = 0; i < 3; i++) await counter(alice.endpoints[0]?.url as string);
  await kill(alice.instance.containerId);

  const back = await claimedAgain(harness, 'alice', alice.instance.id);
  expect(await counter(back.endpoints[0]?.url as string)).toBe(4);
  const events = bh.events(100);
  const died = events.find((e) => e.type === 'instance.failed' && e.instance === alice.instance.id);
  expect(died?.data).toMatchObject({ phase: 'claimed', resumes: true });
  expect(events.some((e) => e.type === 'state.saved' && e.instance === alice.instance.id)).toBe(true);
  expect(events.find((e) => e.type === 'tenant.resumed')?.instance).toBe(back.id);
  expect(listResumes(harness.db)).toEqual([]);
  expect(await instanceDirs(harness.dataDir)).toEqual([back.id]);
});

test('a reserved container killed: saved, destroyed, and not claimed for its released tenant', async () => {
  const harness = await echoHarness({ 'on_release: true': 'on_release: false' });
  const bh = harness.boilerhouse;
  const bob = await bh.claim('bob', 'echo');
  await counter(bob.endpoints[0]?.url as string);
  // No save on release: the write is only on the host when the container dies.
  await bh.release('bob', 'echo');
  await kill(bob.instance.containerId);

  await waitFor(() => bh.instances().length === 0, 20_000, 'the dead reservation destroyed');
  expect(bh.tenant('bob').instances).toEqual([]);
  const again = await bh.claim('bob', 'echo');
  expect(again.path).not.toBe('hit');
  expect(await counter(again.endpoints[0]?.url as string)).toBe(2);
});

test('a death whose save fails keeps the instance failed with its data, and no claim goes over it', async () => {
  const harness = await echoHarness();
  const bh = harness.boilerhouse;
  const metrics = new Metrics(bh);
  onTestFinished(() => metrics.close());
  const carol = await bh.claim('carol', 'echo');
  await counter(carol.endpoints[0]?.url as string);
  await counter(carol.endpoints[0]?.url as string);
  // The local sink made unusable (it has no save yet): a file where its directory would be.
  const sink = join(harness.dataDir, 'sinks', 'echo');
  await mkdir(dirname(sink), { recursive: true });
  await writeFile(sink, 'not a directory');
  await kill(carol.instance.containerId);

  const failed = await waitFor(
    () => bh.instances().find((i) => i.phase === 'failed' && i.reason?.includes('saving its state failed')),
    20_000,
    'the instance failed with its save',
  );
  expect(failed.id).toBe(carol.instance.id);
  expect(failed.tenant).toBe('carol');
  expect(await instanceDirs(harness.dataDir)).toEqual([carol.instance.id]);
  await expect(bh.claim('carol', 'echo')).rejects.toMatchObject({ code: 'instance_failed' });
  expect(bh.pool('echo').instances.failed).toBe(1);

  // The sink comes back: the retry saves, then carol is claimed again with both writes.
  await rm(sink);
  const back = await claimedAgain(harness, 'carol', carol.instance.id);
  expect(await counter(back.endpoints[0]?.url as string)).toBe(3);
  const { body } = await metrics.render();
  expect(body).toMatch(/boilerhouse_save_retries_total\{workload="echo",of="dead_instance"\} [1-9]/);
  expect(body).toMatch(/boilerhouse_instance_deaths_total\{workload="echo",phase="claimed"\} 1/);
});

test('every container stopped while the daemon is down (a host reboot): claimed tenants come back by themselves', async () => {
  const harness = await echoHarness({ 'min_idle: 0': 'min_idle: 1' });
  const bh = harness.boilerhouse;
  const tenants = ['dan', 'erin'];
  const before = new Map<string, string>();
  for (const tenant of tenants) {
    const claim = await bh.claim(tenant, 'echo');
    await counter(claim.endpoints[0]?.url as string);
    await counter(claim.endpoints[0]?.url as string);
    before.set(tenant, claim.instance.id);
  }
  await bh.stop();
  const containers = await harness.containers();
  await run('docker', ['stop', '-t', '0', ...containers.map((container) => container.id)]);

  await harness.restart();
  for (const tenant of tenants) {
    const back = await claimedAgain(harness, tenant, before.get(tenant) as string);
    expect(await counter(back.endpoints[0]?.url as string)).toBe(3);
  }
  const report = harness.boilerhouse.events(100).find((event) => event.type === 'daemon.recovered');
  expect(report?.data).toMatchObject({ failed: containers.length });
});
