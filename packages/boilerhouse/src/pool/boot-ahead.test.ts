/**
 * `pool.boot: ahead` on the real Docker engine: the workload's process starts with its container, before any
 * claim, sees an empty state volume, and goes on only when the claim's start message arrives, with the
 * tenant's state restored and the claim-time environment in the message. The echo image runs behind a
 * small script (seeded into the instance) that speaks the protocol and notes what it saw.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { counter, echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** Boots, notes what it found, waits for the start message (after a second: a slow boot), notes again. */
const BOOT_SCRIPT = `#!/bin/bash
set -e
{ echo "booted $(date +%s%3N)"; echo "files at boot $(ls -A /data | wc -l)"; } > /tmp/boot.log
sleep 1
message=$(tr '\\0' '\\n' < "$BOILERHOUSE_START")
[ "\${message:0:1}" = g ] || exit 125
while IFS= read -r entry; do export "$entry"; done <<< "\${message:1}"
{ echo "tenant $BOILERHOUSE_TENANT"; echo "counter at start $(cat /data/counter 2>/dev/null || echo none)"; } >> /tmp/boot.log
exec node /app/server.cjs
`;

const aheadEcho = (minIdle: number) =>
  echoWorkload({
    'min_idle: 2': `min_idle: ${minIdle}\n  boot: ahead`,
    'volumes:\n':
      'command: ["bash", "/opt/boot.sh"]\n\nvolumes:\n  custom:\n    - {name: boot, target: /opt/boot.sh, seed: boot.sh, read_only: true}\n',
  });

async function bootLog(instanceContainer: string): Promise<Record<string, string>> {
  const result = await (harness as Harness).runtime.exec(instanceContainer, ['cat', '/tmp/boot.log'], {
    timeoutMs: 10_000,
  });
  return Object.fromEntries(
    result.output
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), line.slice(at + 1)];
      }),
  );
}

describe('pool.boot: ahead', () => {
  test('the process boots before the claim on an empty volume and starts on the message, state restored', async () => {
    harness = await startHarness({ 'echo.yaml': await aheadEcho(1), 'boot.sh': BOOT_SCRIPT });
    const bh = harness.boilerhouse;
    await waitFor(() => bh.pool('echo').instances.ready === 1, 30_000, 'a ready instance');
    const first = await bh.claim('alice', 'echo');
    expect(await counter(first.endpoints[0]?.url as string)).toBe(1);
    const released = await bh.release('alice', 'echo');
    if (released.instance !== null) await bh.destroy(released.instance.id);

    await waitFor(() => bh.pool('echo').instances.ready === 1, 30_000, 'a refill');
    // The ready instance's process has booted: it noted its boot before waiting for the message.
    const ready = bh.instances().find((instance) => instance.phase === 'ready');
    await waitFor(
      async () => (await bootLog(ready?.containerId as string)).booted !== undefined,
      30_000,
      'the process to boot',
    );
    const claimedAt = Date.now();
    const warm = await bh.claim('alice', 'echo');
    expect(warm.path).toBe('warm');
    expect(warm.instance.id).toBe(ready?.id);
    const log = await bootLog(warm.instance.containerId as string);
    expect(Number(log.booted)).toBeLessThan(claimedAt);
    expect(log['files at boot']).toBe('0');
    expect(log.tenant).toBe('alice');
    expect(log['counter at start']).toBe('1');
    expect(await counter(warm.endpoints[0]?.url as string)).toBe(2);
  });

  test('a cold claim waits for a process still booting to read the message', async () => {
    harness = await startHarness({ 'echo.yaml': await aheadEcho(0), 'boot.sh': BOOT_SCRIPT });
    const cold = await harness.boilerhouse.claim('bob', 'echo');
    expect(cold.path).toBe('cold');
    expect((await bootLog(cold.instance.containerId as string)).tenant).toBe('bob');
    expect(await counter(cold.endpoints[0]?.url as string)).toBe(1);
  });
});
