/**
 * One tenant's file churn must not stall the daemon (the attack: a storm of directory creates and deletes
 * in a state volume held the API at 12-17 s per request through the idle release's recursive inotify watch).
 * On the real engine: a tenant churns thousands of directories a second in its state volume while a quiet
 * tenant beside it is released for idleness and a writing one is not.
 */
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { testApi } from '../testing/api.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** inotify watches this process holds (the daemon runs in it), from /proc/self/fdinfo. */
async function inotifyWatches(): Promise<number> {
  let watches = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== 'anon_inode:inotify') continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    watches += info.split('\n').filter((line) => line.startsWith('inotify ')).length;
  }
  return watches;
}

// Each round makes 1,050 directories and a file in each under a directory that stays, then removes them.
const CHURN = `end=$(( $(date +%s) + 12 )); mkdir -p /data/work
while [ "$(date +%s)" -lt "$end" ]; do
  mkdir -p /data/work/churn/{1..50}/{1..20} && touch /data/work/churn/{1..50}/{1..20}/f && rm -rf /data/work/churn
done`;

test('a tenant churning its state volume neither stalls the daemon nor keeps idle release from working', async () => {
  const text = await echoWorkload({ 'min_idle: 2': 'min_idle: 0', 'file_idle_ttl: 5m': 'file_idle_ttl: 2s' });
  harness = await startHarness({ 'echo.yaml': text });
  const bh = harness.boilerhouse;
  const app = testApi(harness);
  const baseline = await inotifyWatches();
  const churner = await bh.claim('churner', 'echo');
  const quiet = await bh.claim('quiet', 'echo');
  const writer = await bh.claim('writer', 'echo');
  const churn = harness.runtime.exec(churner.instance.containerId as string, ['bash', '-c', CHURN], {
    timeoutMs: 60_000,
  });
  const writerState = join(harness.dataDir, 'instances', writer.instance.id, 'volumes', 'state');
  const phase = (tenant: string) => bh.tenant(tenant).instances[0]?.phase;

  let mostWatches = 0;
  let slowestRequestMs = 0;
  let quietReleased = false;
  const until = Date.now() + 9_000;
  for (let i = 0; Date.now() < until; i++) {
    await writeFile(join(writerState, 'note'), `${i}`);
    mostWatches = Math.max(mostWatches, await inotifyWatches());
    const began = performance.now();
    const response = await app.request('/api/v1/tenants/quiet');
    slowestRequestMs = Math.max(slowestRequestMs, performance.now() - began);
    expect(response.status).toBe(200);
    quietReleased ||= phase('quiet') === 'reserved';
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Both still at it (the churn runs past the loop): writing holds the release off, churn included.
  expect(phase('writer')).toBe('claimed');
  expect(phase('churner')).toBe('claimed');
  const churned = await churn;
  expect(churned.exitCode).toBe(0);

  // Structural: the daemon watches nothing in tenant volumes, so the churn cannot add inotify watches.
  expect(mostWatches).toBeLessThanOrEqual(baseline);
  // Liveness, generous: the attack held each request for 12-17 s.
  expect(slowestRequestMs).toBeLessThan(2_000);
  expect(quietReleased).toBe(true);
  expect(bh.tenant('quiet').instances[0]?.id).toBe(quiet.instance.id);
});
