/** Tenant state across claims, on the real Docker engine with the echo workload and a local sink. */
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { SaveFailedError } from '../errors.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const counter = async (url: string) => Number(await (await fetch(`${url}/counter`)).text());

test("a tenant's state follows it to a new instance: saved at release, restored before the workload starts", async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 1',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const first = await bh.claim('ana@example.org', 'echo');
  const url = first.endpoints[0]?.url as string;
  expect([await counter(url), await counter(url)]).toEqual([1, 2]);
  // Affinity 0: the instance is destroyed at release, after its state was saved.
  expect((await bh.release('ana@example.org', 'echo')).outcome).toBe('destroyed');
  const saved = bh.events(30).find((event) => event.type === 'state.saved');
  expect(saved?.data).toMatchObject({ seq: 1, why: 'release', changed: true });

  const second = await bh.claim('ana@example.org', 'echo');
  expect(second.instance.id).not.toBe(first.instance.id);
  expect(second.timingsMs.restore).toBeGreaterThan(0);
  expect(await counter(second.endpoints[0]?.url as string)).toBe(3);
  // Another tenant starts from nothing.
  const other = await bh.claim('bob', 'echo');
  expect(await counter(other.endpoints[0]?.url as string)).toBe(1);
});

test('a release whose save fails keeps the instance claimed, with its data', async () => {
  const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0' });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const claim = await bh.claim('alice', 'echo');
  const url = claim.endpoints[0]?.url as string;
  await counter(url);
  // The sink directory cannot be written: every save fails.
  const sinkDir = join(harness.dataDir, 'sinks');
  await rm(sinkDir, { recursive: true, force: true });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(sinkDir, 'not a directory');
  await chmod(sinkDir, 0o400);
  await expect(bh.release('alice', 'echo')).rejects.toBeInstanceOf(SaveFailedError);
  expect(bh.tenant('alice').instances[0]?.phase).toBe('claimed');
  expect(await counter(url)).toBe(2);
  expect(bh.events(20).some((event) => event.type === 'state.failed')).toBe(true);
  // Once the sink works again, the release goes through.
  await rm(sinkDir, { force: true });
  expect((await bh.release('alice', 'echo')).outcome).toBe('reserved');
});
