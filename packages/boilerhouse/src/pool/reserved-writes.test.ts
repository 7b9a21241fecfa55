/**
 * A reserved instance's writes, looked for a bounded share of its volume per tick (write-scan.ts): a pass
 * over a volume larger than one tick's share spans several ticks, and a write deep in it still claims the
 * reservation back while a quiet one stays reserved.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';
import { ENTRIES_PER_TICK } from './idle.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function reservedWithManyFiles(): Promise<{ stateDir: string; id: string }> {
  harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
  const bh = harness.boilerhouse;
  const claim = await bh.claim('alice', 'echo');
  const stateDir = join(harness.dataDir, 'instances', claim.instance.id, 'volumes', 'state');
  // Three ticks' worth of entries, so that every pass spans several ticks.
  for (let d = 0; d < 30; d++) {
    await mkdir(join(stateDir, 'tree', `d${d}`), { recursive: true });
    const names = Array.from({ length: (3 * ENTRIES_PER_TICK) / 30 }, (_, f) => `f${f}`);
    await Promise.all(names.map((name) => writeFile(join(stateDir, 'tree', `d${d}`, name), '')));
  }
  await bh.release('alice', 'echo');
  expect(bh.tenant('alice').instances[0]?.phase).toBe('reserved');
  // Quiet for a while: several whole passes go by without a claim back.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(bh.tenant('alice').instances[0]?.phase).toBe('reserved');
  return { stateDir, id: claim.instance.id };
}

const reclaimed = () => harness?.boilerhouse.events(20).find((event) => event.type === 'instance.reclaimed');

test('a write deep in a volume larger than a tick looks at claims the reservation back', async () => {
  const { stateDir, id } = await reservedWithManyFiles();
  await writeFile(join(stateDir, 'tree', 'd29', 'f0'), 'written while reserved');
  await waitFor(reclaimed, 10_000, 'the claim back');
  expect(harness?.boilerhouse.tenant('alice').instances[0]).toMatchObject({ id, phase: 'claimed' });
});
