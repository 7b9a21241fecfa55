/** An operator's destroy of a tenant's instance, on the real engine with the echo workload. */
import { afterEach, expect, test } from 'vitest';
import { counter, echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

test("issue 15: destroying a claimed instance saves the tenant's writes first; discard=true does not", async () => {
  harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
  const bh = harness.boilerhouse;
  const first = await bh.claim('alice', 'echo');
  for (let i = 1; i <= 3; i++) expect(await counter(first.endpoints[0]?.url as string)).toBe(i);
  await bh.destroy(first.instance.id);
  expect(bh.events(20).find((event) => event.type === 'instance.destroyed')?.message).toContain(
    'destroyed by an operator',
  );

  const second = await bh.claim('alice', 'echo');
  expect(second.instance.id).not.toBe(first.instance.id);
  expect(await counter(second.endpoints[0]?.url as string)).toBe(4);
  await bh.destroy(second.instance.id, { discard: true });
  expect(bh.events(20).find((event) => event.type === 'instance.destroyed')?.message).toContain(
    'unsaved changes discarded',
  );

  const third = await bh.claim('alice', 'echo');
  expect(await counter(third.endpoints[0]?.url as string)).toBe(4);
});
