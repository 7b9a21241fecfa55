/** Sync policy on the real Docker engine: idle release, interval saves, manual saves, older saves. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { testApi } from '../testing/api.ts';
import { counter, echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

test('an instance whose mapped state sees no writes for file_idle_ttl is released; unmapped writes do not count', async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    'file_idle_ttl: 5m': 'file_idle_ttl: 1500ms',
    '    - path: .\n      direction: bidirectional\n      mode: sync':
      '    - path: counter\n      direction: bidirectional\n      mode: copy',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const claim = await bh.claim('alice', 'echo');
  const stateDir = join(harness.dataDir, 'instances', claim.instance.id, 'volumes', 'state');
  // Transient files (like NanoClaw's data/ipc) keep being written, but they are not state.
  let writing = true;
  const transient = (async () => {
    await mkdir(join(stateDir, 'ipc'), { recursive: true });
    for (let i = 0; writing; i++) {
      await writeFile(join(stateDir, 'ipc', `${i % 3}.json`), `${i}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const [instance] = bh.tenant('alice').instances;
  await waitFor(
    () => instance !== undefined && bh.idleReleaseAt(instance) !== undefined,
    5_000,
    'the idle watch',
  );
  const released = await waitFor(
    () => bh.tenant('alice').instances.find((candidate) => candidate.phase === 'reserved'),
    10_000,
    'the idle release',
  );
  writing = false;
  await transient;
  expect(released.id).toBe(claim.instance.id);
  const event = bh.events(30).find((candidate) => candidate.type === 'instance.released');
  // Said why, as people read durations.
  expect(event?.message).toMatch(/\(released: idle: no writes to its state for 1s500ms\)$/);
  expect(event?.data).toMatchObject({ why: expect.stringContaining('idle') });
});

test('interval saves happen while claimed, only when something changed', async () => {
  const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0', 'interval: 30s': 'interval: 300ms' });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const claim = await bh.claim('alice', 'echo');
  await counter(claim.endpoints[0]?.url as string);
  await waitFor(async () => (await bh.snapshots('alice', 'echo')).head === 1, 10_000, 'an interval save');
  // Nothing written since: still one save after several intervals.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect((await bh.snapshots('alice', 'echo')).head).toBe(1);
  await counter(claim.endpoints[0]?.url as string);
  await waitFor(
    async () => (await bh.snapshots('alice', 'echo')).head === 2,
    10_000,
    'a second interval save',
  );
});

test('manual saves, the list of saves, and going back to an older save through the API', async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 1h',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const app = testApi(harness);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const claim = await call('POST', '/api/v1/tenants/alice/claim', { workload: 'echo' });
  const url = (claim.body.endpoints as { url: string }[])[0]?.url as string;
  await counter(url);
  expect(
    (await call('POST', '/api/v1/tenants/alice/sync', { workload: 'echo', direction: 'upload' })).body,
  ).toMatchObject({
    save: { seq: 1, changed: true },
  });
  await counter(url);
  await counter(url);
  await call('POST', '/api/v1/tenants/alice/sync', { workload: 'echo', direction: 'upload' });
  const list = await call('GET', '/api/v1/tenants/alice/snapshots?workload=echo');
  expect(list.body).toMatchObject({ head: 2, saves: [{ seq: 2 }, { seq: 1 }] });

  // While claimed, an older save cannot be put back.
  expect((await call('POST', '/api/v1/tenants/alice/snapshots/1/restore', { workload: 'echo' })).status).toBe(
    409,
  );
  await call('POST', '/api/v1/tenants/alice/release', { workload: 'echo' });
  const restored = await call('POST', '/api/v1/tenants/alice/snapshots/1/restore', { workload: 'echo' });
  expect(restored.body).toMatchObject({ restored: 1, head: 3 });
  // The reserved instance was saved and destroyed; the next claim restores save 1 (counter was 1).
  const again = await call('POST', '/api/v1/tenants/alice/claim', { workload: 'echo' });
  expect(again.body.path).not.toBe('hit');
  expect(await counter((again.body.endpoints as { url: string }[])[0]?.url as string)).toBe(2);

  expect(
    (await call('POST', '/api/v1/tenants/alice/snapshots/99/restore', { workload: 'echo' })).status,
  ).toBe(404);
  expect(
    (await call('POST', '/api/v1/tenants/alice/sync', { workload: 'echo', direction: 'sideways' })).body,
  ).toMatchObject({
    error: {
      code: 'bad_request',
      message: 'body.direction: must be one of "upload", "download", got "sideways"',
    },
  });
});
