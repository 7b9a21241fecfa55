/** Claim and release on the real Docker engine, with the echo workload. */
import { afterEach, describe, expect, test } from 'vitest';
import { InstanceFailedError, PoolExhaustedError } from '../errors.ts';
import {
  counter,
  echoWorkload,
  type Harness,
  instanceDirs,
  startHarness,
  waitFor,
} from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** The echo workload with no ready instances and reservations paused. */
const pausingEcho = () =>
  echoWorkload({ 'min_idle: 2': 'min_idle: 0', 'max_size: 10': 'max_size: 10\n  reserve: pause' });

describe('claim paths', () => {
  test('warm, then a hit that keeps the very same process, then cold when no instance is ready', async () => {
    harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 1' }) });
    const bh = harness.boilerhouse;
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');

    const warm = await bh.claim('alice', 'echo');
    expect(warm.path).toBe('warm');
    expect(warm.endpoints).toEqual([
      { port: 8080, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
    ]);
    expect(Object.keys(warm.timingsMs)).toEqual(
      expect.arrayContaining(['restore', 'gate', 'ready', 'total']),
    );
    const url = warm.endpoints[0]?.url as string;
    expect(await counter(url)).toBe(1);

    expect((await bh.release('alice', 'echo')).outcome).toBe('reserved');
    expect(bh.tenant('alice').instances[0]?.phase).toBe('reserved');
    // A reserved instance keeps running by default: it still answers.
    expect(await counter(url)).toBe(2);

    const hit = await bh.claim('alice', 'echo');
    expect(hit.path).toBe('hit');
    expect(hit.instance.id).toBe(warm.instance.id);
    expect(await counter(url)).toBe(3);

    // The fill loop refills behind the warm claim; take the pool's ready instance away, then go cold.
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a refill');
    await bh.claim('bob', 'echo');
    const cold = await bh.claim('carol', 'echo');
    expect(cold.path).toBe('cold');
    expect(await counter(cold.endpoints[0]?.url as string)).toBe(1);
  });

  test('a claim is idempotent: the same tenant gets the same instance', async () => {
    harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
    const first = await harness.boilerhouse.claim('ana@example.org', 'echo');
    const second = await harness.boilerhouse.claim('ana@example.org', 'echo');
    expect(second.instance.id).toBe(first.instance.id);
    expect(second.path).toBe('hit');
  });

  test('50 concurrent claims by one tenant yield one instance', async () => {
    harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
    const bh = harness.boilerhouse;
    const results = await Promise.all(Array.from({ length: 50 }, () => bh.claim('+4915112345678', 'echo')));
    expect(new Set(results.map((result) => result.instance.id)).size).toBe(1);
    expect(bh.instances()).toHaveLength(1);
    expect(await harness.containers()).toHaveLength(1);
  });

  test('50 tenants against max_size 10: 10 claims and 40 clean "pool exhausted" errors, nothing orphaned', async () => {
    const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0', 'max_size: 10': 'max_size: 10' });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => bh.claim(`tenant-${i}`, 'echo')),
    );
    const claimed = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(claimed).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const error of refused) {
      expect(error).toBeInstanceOf(PoolExhaustedError);
      expect((error as PoolExhaustedError).status).toBe(503);
      expect((error as PoolExhaustedError).retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(await harness.containers()).toHaveLength(10);
    expect(await instanceDirs(harness.dataDir)).toHaveLength(10);
    for (const instance of bh.instances()) await bh.destroy(instance.id);
    expect(await harness.containers()).toHaveLength(0);
    expect(await instanceDirs(harness.dataDir)).toHaveLength(0);
  });
});

describe('claims first, then the refill', () => {
  /** Echo with one ready instance and a post_claim hook that keeps each claim busy for `seconds`. */
  const slowClaims = (seconds: number) =>
    echoWorkload({
      'min_idle: 2': 'min_idle: 1',
      'healthcheck:': ['hooks:', '  post_claim:', `    - command: sleep ${seconds}`, 'healthcheck:'].join(
        '\n',
      ),
    });

  /** Claims alice; returns when, after the claim began, the pool first had a new instance under way. */
  async function refillDuringClaim(bh: Harness['boilerhouse']): Promise<number | undefined> {
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');
    const began = Date.now();
    let done = false;
    const claim = bh.claim('alice', 'echo').finally(() => {
      done = true;
    });
    let refillAfter: number | undefined;
    let taken = false;
    while (!done && refillAfter === undefined) {
      const { creating, ready } = bh.pool('echo').instances;
      // From when the claim has taken the ready instance.
      if (creating + ready === 0) taken = true;
      else if (taken) refillAfter = Date.now() - began;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(taken).toBe(true);
    expect((await claim).path).toBe('warm');
    return refillAfter;
  }

  test('the pool is refilled once the claim that emptied it is done, not during it', async () => {
    harness = await startHarness({ 'echo.yaml': await slowClaims(0.6) });
    const bh = harness.boilerhouse;
    // The fill loop passes every 100 ms here: without holding back it would have started during the hook.
    expect(await refillDuringClaim(bh)).toBeUndefined();
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'the refill after the claim');
  });

  test('a claim that takes longer holds the refill back for a second at most', async () => {
    harness = await startHarness({ 'echo.yaml': await slowClaims(4) });
    const refillAfter = await refillDuringClaim(harness.boilerhouse);
    expect(refillAfter).toBeGreaterThanOrEqual(1_000);
    expect(refillAfter).toBeLessThan(4_000);
  });
});

describe('release and reservations', () => {
  test('affinity_timeout 0 destroys the instance at release', async () => {
    const text = await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'affinity_timeout: 10m': 'affinity_timeout: 0',
    });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    await bh.claim('alice', 'echo');
    const released = await bh.release('alice', 'echo');
    expect(released.outcome).toBe('destroyed');
    expect(bh.instances()).toHaveLength(0);
    expect(await harness.containers()).toHaveLength(0);
  });

  test('reserve: pause freezes the instance while reserved; the hit thaws it', async () => {
    harness = await startHarness({ 'echo.yaml': await pausingEcho() });
    const bh = harness.boilerhouse;
    const claim = await bh.claim('alice', 'echo');
    await bh.release('alice', 'echo');
    const containerId = claim.instance.containerId as string;
    expect((await harness.runtime.inspect(containerId))?.status).toBe('paused');
    const hit = await bh.claim('alice', 'echo');
    expect(hit.path).toBe('hit');
    expect((await harness.runtime.inspect(containerId))?.status).toBe('running');
    expect(await counter(hit.endpoints[0]?.url as string)).toBe(1);
  });

  test('issue 15: a reservation that cannot be unpaused is never handed over frozen; the tenant gets its save on a new instance', async () => {
    harness = await startHarness({ 'echo.yaml': await pausingEcho() });
    const bh = harness.boilerhouse;
    const claim = await bh.claim('alice', 'echo');
    expect(await counter(claim.endpoints[0]?.url as string)).toBe(1);
    await bh.release('alice', 'echo');
    const containerId = claim.instance.containerId as string;
    // Thawed behind Boilerhouse's back, so its own unpause fails ("not paused").
    await harness.runtime.unpause(containerId);
    const again = await bh.claim('alice', 'echo');
    expect(again.path).not.toBe('hit');
    expect(again.instance.id).not.toBe(claim.instance.id);
    expect(await harness.runtime.inspect(containerId)).toBeUndefined();
    expect(await counter(again.endpoints[0]?.url as string)).toBe(2);
  });

  test('a reservation ends after affinity_timeout: the instance is destroyed and the pool refills', async () => {
    const text = await echoWorkload({
      'min_idle: 2': 'min_idle: 1',
      'affinity_timeout: 10m': 'affinity_timeout: 300ms',
    });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    const claim = await bh.claim('alice', 'echo');
    await bh.release('alice', 'echo');
    await waitFor(
      () => bh.instances().every((instance) => instance.id !== claim.instance.id),
      10_000,
      'expiry',
    );
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a refill');
    expect(bh.tenant('alice').instances).toEqual([]);
    // The next claim is a fresh instance: an instance that served one tenant is never given to another.
    const again = await bh.claim('alice', 'echo');
    expect(again.path).toBe('warm');
    expect(again.instance.id).not.toBe(claim.instance.id);
  });

  test('a full pool evicts the oldest reservation of another tenant to make room', async () => {
    const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0', 'max_size: 10': 'max_size: 2' });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    const alice = await bh.claim('alice', 'echo');
    await bh.release('alice', 'echo');
    await bh.claim('bob', 'echo');
    await bh.release('bob', 'echo');
    const carol = await bh.claim('carol', 'echo');
    expect(carol.path).toBe('cold');
    const left = bh.instances();
    expect(left.map((instance) => instance.tenant).sort()).toEqual(['bob', 'carol']);
    expect(left.some((instance) => instance.id === alice.instance.id)).toBe(false);
    // With both slots claimed, a fourth tenant finds nothing to evict.
    await bh.claim('bob', 'echo');
    await expect(bh.claim('dave', 'echo')).rejects.toBeInstanceOf(PoolExhaustedError);
  });

  test('issue 15: the room an eviction makes belongs to the claim that made it, not to the fill loop', async () => {
    const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 1', 'max_size: 10': 'max_size: 2' });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');
    const alice = await bh.claim('alice', 'echo');
    await bh.release('alice', 'echo');
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a refill');
    await bh.claim('bob', 'echo');
    // Full: alice's reservation and bob. The fill loop wants a ready instance as soon as a slot frees.
    for (const tenant of ['carol', 'dave']) {
      const claim = await bh.claim(tenant, 'echo');
      expect(claim.path).toBe('cold');
      await bh.release(tenant, 'echo');
    }
    expect(bh.instances().some((instance) => instance.id === alice.instance.id)).toBe(false);
  });

  test('a reserved instance that writes to its state claims itself back for its tenant', async () => {
    harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
    const bh = harness.boilerhouse;
    const claim = await bh.claim('alice', 'echo');
    await bh.release('alice', 'echo');
    expect(bh.tenant('alice').instances[0]?.phase).toBe('reserved');
    // Still running while reserved, it keeps serving; this request writes its counter to the state volume.
    await counter(claim.endpoints[0]?.url as string);
    await waitFor(
      () => bh.tenant('alice').instances[0]?.phase === 'claimed',
      10_000,
      'the instance to claim itself back',
    );
    const event = bh.events(20).find((candidate) => candidate.type === 'instance.reclaimed');
    expect(event).toMatchObject({
      tenant: 'alice',
      instance: claim.instance.id,
      data: { reason: 'state written while reserved' },
    });
  });

  test('releasing a tenant without an instance is a clear 404', async () => {
    harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
    await expect(harness.boilerhouse.release('nobody', 'echo')).rejects.toMatchObject({
      status: 404,
      message: 'tenant nobody has no instance of echo',
    });
  });
});

describe('readiness and failures', () => {
  test('the gate passes claim-time variables to the workload process', async () => {
    const text = await echoWorkload({
      'min_idle: 2': 'min_idle: 1',
      'image: boilerhouse/echo:latest':
        'image: boilerhouse/echo:latest\ncommand: ["bash", "-c", "echo \\"$BOILERHOUSE_TENANT\\" > /data/tenant && exec node /app/server.cjs"]',
    });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    await waitFor(() => bh.pool('echo').instances.ready === 1, 20_000, 'a ready instance');
    const [ready] = bh.instances();
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const tenantFile = join(harness.dataDir, 'instances', ready?.id as string, 'volumes', 'state', 'tenant');
    // Behind the gate, the workload's own command has not run yet.
    await expect(readFile(tenantFile, 'utf8')).rejects.toThrow();
    await bh.claim('+4915112345678', 'echo');
    expect(await readFile(tenantFile, 'utf8')).toBe('+4915112345678\n');
  });

  test('an instance that never becomes healthy fails the claim and is destroyed', async () => {
    const text = await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'start_period: 10s': 'start_period: 0s',
      'timeout: 2s': 'timeout: 300ms',
      'retries: 3': 'retries: 2',
      'test: ["CMD", "bash"': 'test: ["CMD", "false", "bash"',
    });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    await expect(bh.claim('alice', 'echo')).rejects.toBeInstanceOf(InstanceFailedError);
    expect(bh.instances()).toEqual([]);
    expect(await harness.containers()).toHaveLength(0);
    const types = bh.events(20).map((event) => event.type);
    expect(types).toContain('instance.destroyed');
  });

  test('a missing image backs the fill loop off and shows on the pool status', async () => {
    const text = await echoWorkload({
      'image: boilerhouse/echo:latest': 'image: boilerhouse/no-such-image:1',
    });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    const status = await waitFor(() => {
      const pool = bh.pool('echo');
      return pool.fill.consecutiveFailures > 0 ? pool : undefined;
    });
    expect(status.fill.lastError).toContain('image boilerhouse/no-such-image:1 is not on this host');
    expect(status.fill.backoffUntil).toBeGreaterThan(Date.now() - 1_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Backing off: one failure per back-off period, not a spin.
    expect(bh.pool('echo').fill.consecutiveFailures).toBeLessThanOrEqual(2);
  });

  test('a ready instance whose container dies is replaced', async () => {
    harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 1' }) });
    const bh = harness.boilerhouse;
    const first = await waitFor(() => bh.instances().find((instance) => instance.phase === 'ready'));
    await harness.runtime.remove(first.containerId as string);
    const replacement = await waitFor(() =>
      bh.instances().find((instance) => instance.phase === 'ready' && instance.id !== first.id),
    );
    expect(replacement.id).not.toBe(first.id);
    expect(
      bh.events(50).some((event) => event.type === 'instance.failed' && event.instance === first.id),
    ).toBe(true);
  });
});

describe('lifecycle hooks', () => {
  test('post_claim runs after the workload is ready; a failing pre_release keeps the instance claimed', async () => {
    const text = await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'healthcheck:': [
        'hooks:',
        '  post_claim:',
        '    - command: echo "claimed by $BOILERHOUSE_TENANT" > /data/hello',
        '  pre_release:',
        '    - command: test ! -e /data/block',
        '      timeout: 2s',
        'healthcheck:',
      ].join('\n'),
    });
    harness = await startHarness({ 'echo.yaml': text });
    const bh = harness.boilerhouse;
    const claim = await bh.claim('alice', 'echo');
    const { readFile, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const stateDir = join(harness.dataDir, 'instances', claim.instance.id, 'volumes', 'state');
    expect(await readFile(join(stateDir, 'hello'), 'utf8')).toBe('claimed by alice\n');
    await writeFile(join(stateDir, 'block'), '');
    await expect(bh.release('alice', 'echo')).rejects.toMatchObject({
      code: 'hook_failed',
      message: 'hooks.pre_release[0] (/bin/sh) exited with 1',
    });
    expect(bh.tenant('alice').instances[0]?.phase).toBe('claimed');
    expect(bh.events(20).some((event) => event.type === 'hook.failed')).toBe(true);
  });
});
