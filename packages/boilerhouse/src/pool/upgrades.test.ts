/**
 * Issue 18, upgrading a workload while tenants hold instances, on the real engine with a local sink: a
 * tenant on an old version moves to the current one at its release, as a reservation the fill loop
 * replaces, or now (`upgrade --now`), always saved first; a move that cannot save leaves the tenant where
 * it was, data intact.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, expect, onTestFinished, test } from 'vitest';
import { instanceView } from '../api/views.ts';
import { listResumes } from '../db/resumes.ts';
import { Metrics } from '../metrics/metrics.ts';
import { counter, echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';

const harnesses: Harness[] = [];

afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

/** Echo with no interval save worth the name: only a release or a move saves. */
const V1 = { 'min_idle: 2': 'min_idle: 0', 'interval: 30s': 'interval: 1h' };
/** The same workload with one more variable: a new version. */
const V2 = { ...V1, 'STATE_DIR: /data': 'STATE_DIR: /data\n  RELEASE: "2"' };

async function echoHarness(extra: Record<string, string> = {}): Promise<Harness> {
  const harness = await startHarness({ 'echo.yaml': await echoWorkload({ ...V1, ...extra }) });
  harnesses.push(harness);
  return harness;
}

/** Applies version 2 (with `extra` changes) and returns its hash. */
async function applyV2(harness: Harness, extra: Record<string, string> = {}): Promise<string> {
  const { workload } = await harness.boilerhouse.applyWorkload(
    'echo',
    await echoWorkload({ ...V2, ...extra }),
  );
  return workload.hash;
}

function urlOf(claim: { endpoints: { url: string }[] }): string {
  return claim.endpoints[0]?.url as string;
}

test('a claimed tenant on the old version is shown as such, and moves to the new version at its release with its data', async () => {
  const harness = await echoHarness();
  const bh = harness.boilerhouse;
  const alice = await bh.claim('alice', 'echo');
  for (let i = 0; i < 3; i++) await counter(urlOf(alice));
  const v1 = alice.instance.specHash;

  const v2 = await applyV2(harness);
  expect(v2).not.toBe(v1);
  const [held] = bh.tenant('alice').instances;
  expect(instanceView(held as NonNullable<typeof held>, bh.workloads)).toMatchObject({
    version: v1,
    version_status: 'old',
  });
  expect(bh.pool('echo').oldVersion).toMatchObject({ claimed: 1, reserved: 0 });
  await expect(bh.upgrade('echo', { now: false })).resolves.toMatchObject({
    version: v2,
    now: false,
    tenants: [{ tenant: 'alice', instance: alice.instance.id, version: v1, outcome: 'next_release' }],
  });

  const released = await bh.release('alice', 'echo');
  expect(released.outcome).toBe('destroyed');
  const destroyed = bh
    .events(50)
    .find((event) => event.type === 'instance.destroyed' && event.instance === alice.instance.id);
  expect(destroyed?.message).toContain(`replaced by version ${v2} at release`);
  expect(bh.pool('echo').oldVersion.reserved).toBe(0);

  const back = await bh.claim('alice', 'echo');
  expect(back.path).toBe('cold');
  expect(back.instance.specHash).toBe(v2);
  expect(instanceView(back.instance, bh.workloads).version_status).toBe('current');
  expect(await counter(urlOf(back))).toBe(4);
});

test('upgrade --now moves a claimed tenant to the new version with the write it had not saved yet', async () => {
  const harness = await echoHarness();
  const bh = harness.boilerhouse;
  const metrics = new Metrics(bh);
  onTestFinished(() => metrics.close());
  const bob = await bh.claim('bob', 'echo');
  await counter(urlOf(bob));
  await counter(urlOf(bob)); // unsaved: nothing has saved bob since the claim
  const v2 = await applyV2(harness);

  const report = await bh.upgrade('echo', { now: true });
  const [move] = report.tenants;
  expect(report.now).toBe(true);
  expect(move).toMatchObject({ tenant: 'bob', instance: bob.instance.id, outcome: 'moved' });
  const [now] = bh.tenant('bob').instances;
  expect(now).toMatchObject({ id: move?.to, phase: 'claimed', specHash: v2 });
  expect(await counter(urlOf(now as NonNullable<typeof now>))).toBe(3);
  expect(bh.instances().map((instance) => instance.id)).not.toContain(bob.instance.id);
  expect(listResumes(harness.db)).toEqual([]);
  const upgraded = bh.events(50).find((event) => event.type === 'tenant.upgraded');
  expect(upgraded).toMatchObject({ tenant: 'bob', instance: bob.instance.id, data: { to: move?.to } });
  const { body } = await metrics.render();
  expect(body).toMatch(/boilerhouse_upgrade_moves_total\{workload="echo",at="command",outcome="moved"\} 1/);
  expect(body).toMatch(/boilerhouse_pool_old_version_instances\{workload="echo"\} 0/);
  // Done: a second upgrade finds nobody on an old version.
  expect((await bh.upgrade('echo', { now: true })).tenants).toEqual([]);
});

test('a reservation of the old version is saved and replaced by the fill loop, even what its release did not save', async () => {
  // No save at release: what carol wrote is only in her reserved instance when the new version comes.
  const harness = await echoHarness({ 'on_release: true': 'on_release: false' });
  const bh = harness.boilerhouse;
  const carol = await bh.claim('carol', 'echo');
  for (let i = 0; i < 2; i++) await counter(urlOf(carol));
  expect((await bh.release('carol', 'echo')).outcome).toBe('reserved');

  await applyV2(harness, { 'on_release: true': 'on_release: false' });
  const replaced = await waitFor(
    () =>
      bh.events(50).find((event) => event.type === 'tenant.upgraded' && event.instance === carol.instance.id),
    20_000,
    'the reservation replaced',
  );
  expect(replaced.message).toContain('reservation saved');
  expect(bh.tenant('carol').instances).toEqual([]);
  expect(bh.events(50).some((e) => e.type === 'state.saved' && e.instance === carol.instance.id)).toBe(true);

  const back = await bh.claim('carol', 'echo');
  expect(back.path).toBe('cold');
  expect(await counter(urlOf(back))).toBe(3);
});

test('a move whose save fails leaves the tenant on its instance with its data, and stops the rest; once fixed, both move', async () => {
  const harness = await echoHarness();
  const bh = harness.boilerhouse;
  const dave = await bh.claim('dave', 'echo');
  const erin = await bh.claim('erin', 'echo');
  await counter(urlOf(dave));
  await counter(urlOf(erin));
  await applyV2(harness);
  // The local sink made unusable (nobody has a save yet): a file where its directory would be.
  const sink = join(harness.dataDir, 'sinks', 'echo');
  await mkdir(dirname(sink), { recursive: true });
  await writeFile(sink, 'not a directory');

  const failed = await bh.upgrade('echo', { now: true, parallel: 1 });
  expect(failed.tenants).toMatchObject([
    { tenant: 'dave', outcome: 'failed', to: null },
    { tenant: 'erin', outcome: 'skipped', to: null },
  ]);
  expect(failed.tenants[0]?.message).toMatch(/^stays on .* data intact: /);
  expect(failed.tenants[1]?.message).toContain("stopped after dave's move failed");
  for (const [tenant, claim] of [
    ['dave', dave],
    ['erin', erin],
  ] as const) {
    expect(bh.tenant(tenant).instances).toMatchObject([{ id: claim.instance.id, phase: 'claimed' }]);
    expect(await counter(urlOf(claim))).toBe(2);
  }
  expect(listResumes(harness.db)).toEqual([]);
  expect(bh.events(50).find((event) => event.type === 'tenant.upgrade_failed')).toMatchObject({
    tenant: 'dave',
    data: { stage: 'save' },
  });

  await rm(sink);
  const moved = await bh.upgrade('echo', { now: true });
  expect(moved.tenants.map((move) => [move.tenant, move.outcome])).toEqual([
    ['dave', 'moved'],
    ['erin', 'moved'],
  ]);
  for (const tenant of ['dave', 'erin']) {
    const [now] = bh.tenant(tenant).instances;
    expect(await counter(urlOf(now as NonNullable<typeof now>))).toBe(3);
  }
});

test('upgrade --now is refused, moving nobody, when the new version cannot start', async () => {
  const harness = await echoHarness();
  const bh = harness.boilerhouse;
  const fay = await bh.claim('fay', 'echo');
  await applyV2(harness, { 'image: boilerhouse/echo:latest': 'image: boilerhouse/echo:not-built' });
  const refused = await bh.upgrade('echo', { now: true }).then(
    () => undefined,
    (error: Error & { status?: number }) => error,
  );
  expect(refused?.status).toBe(409);
  expect(refused?.message).toMatch(
    /^image boilerhouse\/echo:not-built of version \w+ is not on this host .*nobody was moved$/,
  );
  expect(bh.tenant('fay').instances).toMatchObject([{ id: fay.instance.id, phase: 'claimed' }]);
});
