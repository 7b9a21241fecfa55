/**
 * The Docker engine restarted under a running daemon (every container stops: an engine upgrade or a crash
 * of dockerd) with tenants claimed and reserved: the claimed ones are claimed again by themselves with
 * every acknowledged write, the reserved one's next claim has its state, the host's isolation rules hold,
 * and nothing is left over. Runs alone: it stops every container on the machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import { Metrics } from '../../packages/boilerhouse/src/metrics/metrics.ts';
import { restartEngine } from '../../packages/boilerhouse/src/testing/engine-restart.ts';
import {
  counter,
  echoWorkload,
  type Harness,
  startHarness,
  waitFor,
} from '../../packages/boilerhouse/src/testing/harness.ts';
import { sampleSum } from './testing/metrics.ts';
import { findOrphans, NO_ORPHANS } from './testing/orphans.ts';

const run = promisify(execFile);
let harness: Harness | undefined;
let metrics: Metrics | undefined;

afterEach(async () => {
  metrics?.close();
  await harness?.cleanup();
});

test('an engine restart with tenants claimed and reserved loses no acknowledged write', async () => {
  harness = await startHarness({
    // No interval saves: the writes since the claim exist only on the host when the engine stops.
    'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 1', 'interval: 30s': 'interval: 1h' }),
  });
  const bh = harness.boilerhouse;
  metrics = new Metrics(bh);
  const claimed = new Map<string, string>();
  for (const tenant of ['alice', 'bob']) {
    const claim = await bh.claim(tenant, 'echo');
    await counter(claim.endpoints[0]?.url as string);
    await counter(claim.endpoints[0]?.url as string);
    claimed.set(tenant, claim.instance.id);
  }
  const carol = await bh.claim('carol', 'echo');
  await counter(carol.endpoints[0]?.url as string);
  await bh.release('carol', 'echo');

  await restartEngine();

  for (const [tenant, before] of claimed) {
    const back = await waitFor(
      () => bh.tenant(tenant).instances.find((i) => i.phase === 'claimed' && i.id !== before),
      60_000,
      `${tenant} claimed again`,
    );
    expect(await counter(back.endpoints[0]?.url as string)).toBe(3);
  }
  await waitFor(() => bh.tenant('carol').instances.length === 0, 30_000, "carol's dead reservation gone");
  const again = await bh.claim('carol', 'echo');
  expect(await counter(again.endpoints[0]?.url as string)).toBe(2);

  // The engine does not touch the INPUT chain: instances are still kept from the host.
  const { stdout } = await run('iptables', ['-S', 'INPUT']);
  expect(stdout).toContain('-j BOILERHOUSE-ISOLATION');
  const { body } = await metrics.render();
  // At least these: an instance started while the engine is still coming back may die too, and is counted.
  expect(sampleSum(body, 'boilerhouse_instance_deaths_total', { phase: 'claimed' })).toBeGreaterThanOrEqual(
    2,
  );
  expect(sampleSum(body, 'boilerhouse_instance_deaths_total', { phase: 'reserved' })).toBe(1);
  expect(sampleSum(body, 'boilerhouse_tenant_resumes_total', { outcome: 'resumed' })).toBeGreaterThanOrEqual(
    2,
  );
  const current = harness;
  // Removals the engine refused while it went down are finished once it is back (dead-instances.ts).
  await waitFor(
    async () =>
      bh.instances().every((instance) => instance.phase !== 'destroying') &&
      JSON.stringify(await findOrphans(current)) === JSON.stringify(NO_ORPHANS),
    60_000,
    'no orphans, no destroy left half-way',
  );
});
