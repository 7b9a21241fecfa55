/** Restarting the daemon over what a previous run (or a crash) left, on the real Docker engine. */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { insertInstance } from '../db/instances.ts';
import {
  counter,
  echoWorkload,
  type Harness,
  instanceDirs,
  startHarness,
  waitFor,
} from '../testing/harness.ts';
import { LABEL } from './container-spec.ts';

const harnesses: Harness[] = [];

afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

async function harnessWith(replacements: Record<string, string>): Promise<Harness> {
  const harness = await startHarness({ 'echo.yaml': await echoWorkload(replacements) });
  harnesses.push(harness);
  return harness;
}

test('a restart keeps claimed instances running and reservations with their remaining time', async () => {
  const harness = await harnessWith({
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 1h',
  });
  const bh = harness.boilerhouse;
  const alice = await bh.claim('alice', 'echo');
  const url = alice.endpoints[0]?.url as string;
  await fetch(`${url}/counter`);
  const bob = await bh.claim('bob', 'echo');
  await bh.release('bob', 'echo');
  const reservedUntil = bh.tenant('bob').instances[0]?.reservedUntil;

  const restarted = await harness.restart();
  expect(
    restarted
      .instances()
      .map((i) => [i.tenant, i.phase])
      .sort(),
  ).toEqual([
    ['alice', 'claimed'],
    ['bob', 'reserved'],
  ]);
  // Same process: the counter goes on.
  expect(await (await fetch(`${url}/counter`)).text()).toBe('2\n');
  expect(restarted.tenant('bob').instances[0]?.reservedUntil).toBe(reservedUntil);
  const hit = await restarted.claim('bob', 'echo');
  expect(hit.path).toBe('hit');
  expect(hit.instance.id).toBe(bob.instance.id);
  const report = restarted.events(50).find((event) => event.type === 'daemon.recovered');
  expect(report?.data).toMatchObject({ adopted: 2, rolledBack: 0, strayContainers: 0 });
});

test('recovery rolls back interrupted transitions and removes what nothing names', async () => {
  const harness = await harnessWith({ 'min_idle: 2': 'min_idle: 0' });
  const bh = harness.boilerhouse;
  const claimed = await bh.claim('alice', 'echo');
  await bh.stop();

  // Once stopping, the daemon takes no new claims.
  await expect(bh.claim('carol', 'echo')).rejects.toMatchObject({ code: 'shutting_down' });
  // A claim interrupted mid-way: its row says claiming.
  const now = Date.now();
  insertInstance(harness.db, {
    id: 'echo-interrupted',
    workload: 'echo',
    specHash: 'x',
    phase: 'claiming',
    tenant: 'carol',
    now,
  });
  // A creation interrupted before Docker was called.
  insertInstance(harness.db, {
    id: 'echo-half-made',
    workload: 'echo',
    specHash: 'x',
    phase: 'creating',
    now,
  });
  // A stray directory and a stray container of this daemon that no row names.
  await mkdir(join(harness.dataDir, 'instances', 'echo-stray'), { recursive: true });
  const stray = await harness.runtime.create({
    name: `boilerhouse-test-stray-${Date.now()}`,
    image: 'boilerhouse/echo:latest',
    env: {},
    labels: { [LABEL.daemon]: bh.daemonId, [LABEL.instance]: 'echo-stray-container' },
    readOnlyRootfs: true,
    networkMode: 'none',
    limits: { cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pids: 32 },
    mounts: [],
    expose: [],
    publishHost: '127.0.0.1',
  });
  // A claimed instance whose container vanished while the daemon was down.
  await harness.runtime.remove(claimed.instance.containerId as string);

  const restarted = await harness.restart();
  const report = restarted.events(50).find((event) => event.type === 'daemon.recovered');
  expect(report?.data).toMatchObject({ rolledBack: 2, failed: 1, strayContainers: 1, strayDirectories: 1 });
  expect(await harness.runtime.inspect(stray)).toBeUndefined();
  expect(
    restarted.events(50).some((e) => e.type === 'instance.failed' && e.instance === claimed.instance.id),
  ).toBe(true);
  // Alice was claimed when her container vanished: she is claimed again, on a new instance (dead-instances.test.ts).
  const back = await waitFor(
    () => restarted.tenant('alice').instances.find((i) => i.phase === 'claimed'),
    20_000,
    'alice claimed again',
  );
  expect(back.id).not.toBe(claimed.instance.id);
  expect(restarted.instances().map((instance) => instance.id)).toEqual([back.id]);
  expect(await instanceDirs(harness.dataDir)).toEqual([back.id]);
});

test('two daemons on one engine never touch each other', async () => {
  const first = await harnessWith({ 'min_idle: 2': 'min_idle: 1' });
  const second = await harnessWith({ 'min_idle: 2': 'min_idle: 1' });
  await waitFor(() => first.boilerhouse.pool('echo').instances.ready === 1);
  await waitFor(() => second.boilerhouse.pool('echo').instances.ready === 1);
  expect(first.boilerhouse.daemonId).not.toBe(second.boilerhouse.daemonId);
  const mine = await first.containers();
  await second.restart();
  // The second daemon's recovery saw the first one's containers on the engine and left them alone.
  for (const container of mine) expect((await first.runtime.inspect(container.id))?.status).toBe('running');
  expect(second.boilerhouse.events(20).find((e) => e.type === 'daemon.recovered')?.data).toMatchObject({
    strayContainers: 0,
  });
});

test('changing a workload file replaces idle instances of the old version; claimed ones are kept', async () => {
  const harness = await harnessWith({ 'min_idle: 2': 'min_idle: 1' });
  const bh = harness.boilerhouse;
  const old = await waitFor(() => bh.instances().find((instance) => instance.phase === 'ready'));
  const claimed = await bh.claim('alice', 'echo');
  await harness.writeWorkload(
    'echo.yaml',
    await echoWorkload({ 'min_idle: 2': 'min_idle: 1', 'pids: 64': 'pids: 80' }),
  );
  const fresh = await waitFor(
    () => bh.instances().find((instance) => instance.phase === 'ready' && instance.specHash !== old.specHash),
    20_000,
    'an instance of the new version',
  );
  expect(fresh.specHash).toBe(bh.pool('echo').version);
  await waitFor(() =>
    bh.instances().every((instance) => instance.id !== old.id || old.id === claimed.instance.id),
  );
  expect(bh.instances().find((instance) => instance.id === claimed.instance.id)?.phase).toBe('claimed');
  expect(bh.events(50).some((event) => event.type === 'pool.updated')).toBe(true);
});

test('a broken workload file keeps the previous version and says why; a new file is a new pool', async () => {
  const harness = await harnessWith({ 'min_idle: 2': 'min_idle: 0' });
  const bh = harness.boilerhouse;
  const version = bh.pool('echo').version;
  await harness.writeWorkload('echo.yaml', 'id: echo\nimgae: x\n');
  const warning = await waitFor(() => bh.events(20).find((event) => event.type === 'pool.warning'));
  expect(warning.message).toContain('echo.yaml:2:1 imgae: unknown key "imgae"; did you mean "image"?');
  expect(bh.pool('echo').version).toBe(version);

  await harness.writeWorkload(
    'second.yaml',
    (await echoWorkload({ 'min_idle: 2': 'min_idle: 0' })).replace('id: echo', 'id: second'),
  );
  await waitFor(() => bh.pools().some((pool) => pool.workload === 'second'));
  expect((await bh.claim('alice', 'second')).path).toBe('cold');
});

test('a workload file that cannot be read is kept as it was, not taken as removed', async () => {
  const harness = await harnessWith({ 'min_idle: 2': 'min_idle: 0' });
  const bh = harness.boilerhouse;
  await bh.claim('alice', 'echo');
  // EISDIR where the file was: an error other than "not found".
  const file = join(harness.workloadsDir, 'echo.yaml');
  await rm(file);
  await mkdir(file);
  const warning = await waitFor(() =>
    bh
      .events(20)
      .find((event) => event.type === 'pool.warning' && event.message.includes('could not be read')),
  );
  expect(warning.message).toContain('keeping the previous version');
  expect(bh.pools().find((pool) => pool.workload === 'echo')?.removed).toBe(false);
  expect(bh.tenant('alice').instances[0]?.phase).toBe('claimed');
});

test('issue 18: a database from before some claims (a restored backup): what was claimed since is saved from the host, then destroyed; what was destroyed since goes without a save', async () => {
  const harness = await harnessWith({ 'min_idle: 2': 'min_idle: 1', 'interval: 30s': 'interval: 1h' });
  const bh = harness.boilerhouse;
  const ready = await waitFor(() => bh.instances().find((instance) => instance.phase === 'ready'));
  // Claimed after the backup: alice on the instance the backup calls ready, eve on one it does not know.
  const alice = await bh.claim('alice', 'echo');
  expect(alice.instance.id).toBe(ready.id);
  await counter(alice.endpoints[0]?.url as string);
  await counter(alice.endpoints[0]?.url as string);
  const eve = await bh.claim('eve', 'echo');
  await counter(eve.endpoints[0]?.url as string);
  // Claimed when the backup was taken, released and destroyed since (its state saved).
  const frank = await bh.claim('frank', 'echo');
  await counter(frank.endpoints[0]?.url as string);
  await bh.release('frank', 'echo');
  await bh.destroy(frank.instance.id);
  await bh.stop();

  // The database as the backup has it.
  harness.db
    .prepare("UPDATE instances SET phase = 'ready', tenant = NULL, claimed_at = NULL WHERE id = ?")
    .run(alice.instance.id);
  harness.db.prepare('DELETE FROM instances WHERE id = ?').run(eve.instance.id);
  insertInstance(harness.db, {
    id: frank.instance.id,
    workload: 'echo',
    specHash: frank.instance.specHash,
    phase: 'claimed',
    tenant: 'frank',
    now: Date.now(),
  });
  harness.db
    .prepare('UPDATE instances SET container_id = ? WHERE id = ?')
    .run(frank.instance.containerId, frank.instance.id);

  const restarted = await harness.restart();
  const report = restarted.events(100).find((event) => event.type === 'daemon.recovered');
  expect(report?.data).toMatchObject({ unrecordedClaims: 2, strayContainers: 0 });
  const held = restarted
    .events(100)
    .find((e) => e.type === 'instance.failed' && e.instance === alice.instance.id);
  expect(held?.message).toContain("holds alice's data since");
  expect(held?.message).toContain('though the database says it is ready');
  // Saved from the host, then destroyed: both instances go, and so does frank's stale row.
  await waitFor(
    () =>
      !restarted
        .instances()
        .some((instance) => [alice.instance.id, eve.instance.id, frank.instance.id].includes(instance.id)),
    20_000,
    'the claimed-since instances saved and destroyed',
  );
  const again = await restarted.claim('alice', 'echo');
  expect(again.instance.id).not.toBe(alice.instance.id);
  expect(await counter(again.endpoints[0]?.url as string)).toBe(3);
  expect(await counter((await restarted.claim('eve', 'echo')).endpoints[0]?.url as string)).toBe(2);
  expect(await counter((await restarted.claim('frank', 'echo')).endpoints[0]?.url as string)).toBe(2);
  // And a ready instance is really ready: a new tenant's claim opens its gate.
  expect((await restarted.claim('grace', 'echo')).path).not.toBe('hit');
});
