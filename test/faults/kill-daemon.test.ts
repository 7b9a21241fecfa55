/**
 * The daemon SIGKILLed at every step of claim, release, destroy, a dead container's salvage and a move to a
 * new workload version (`workload upgrade --now`)
 * (BOILERHOUSE_CRASH_AT, packages/boilerhouse/src/crash-points.ts), then started again on the same
 * directories: no acknowledged write is lost, the tenant claims again and sees it, nothing is left over,
 * and the restarted daemon's event and metric say what recovery did.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import type { CrashPoint } from '../../packages/boilerhouse/src/crash-points.ts';
import { DockerRuntime } from '../../packages/boilerhouse/src/runtime/docker.ts';
import { echoWorkload, waitFor } from '../../packages/boilerhouse/src/testing/harness.ts';
import { removeDaemonLeftovers } from '../../packages/boilerhouse/src/testing/leftovers.ts';
import { type DaemonProcess, daemonDirs, spawnDaemon } from '../e2e/testing/daemon-process.ts';
import { sampleSum } from './testing/metrics.ts';
import { NO_ORPHANS, orphansOf } from './testing/orphans.ts';

const run = promisify(execFile);

interface Claimed {
  instance: { id: string; container_id: string };
  endpoints: { url: string }[];
}

/** What is done, on a daemon set to crash at `point`, to reach it. */
const REACH: Record<CrashPoint, 'claim' | 'release' | 'destroy' | 'kill' | 'upgrade'> = {
  'claim.taken': 'claim',
  'claim.restored': 'claim',
  'claim.opened': 'claim',
  'release.releasing': 'release',
  'release.saved': 'release',
  'destroy.destroying': 'destroy',
  'destroy.removed': 'destroy',
  'dead.failed': 'kill',
  'upgrade.moving': 'upgrade',
  'upgrade.saved': 'upgrade',
};

async function counter(claim: Claimed): Promise<number> {
  return Number(await (await fetch(`${claim.endpoints[0]?.url}/counter`)).text());
}

test.concurrent.each(Object.keys(REACH) as CrashPoint[])(
  'killed at %s: nothing lost, nothing left over',
  async (point) => {
    const root = await mkdtemp(join(tmpdir(), 'boilerhouse-fault-kill-'));
    const dirs = daemonDirs(root);
    await mkdir(dirs.workloadsDir, { recursive: true });
    // No interval saves and no reservations: a write survives only by the save of the step under test.
    const workload = {
      'min_idle: 2': 'min_idle: 1',
      'interval: 30s': 'interval: 1h',
      'affinity_timeout: 10m': 'affinity_timeout: 0',
    };
    await writeFile(join(dirs.workloadsDir, 'echo.yaml'), await echoWorkload(workload));
    const runtime = new DockerRuntime();
    let daemon: DaemonProcess | undefined = await spawnDaemon(dirs, {});
    const daemonId = daemon.daemonId;
    try {
      const claim = (d: DaemonProcess) =>
        d.api<Claimed>('POST', '/api/v1/tenants/alice/claim', { workload: 'echo' });
      const first = await claim(daemon);
      await counter(first);
      await counter(first);
      const step = REACH[point];
      // A claim under test starts from a save: released (and destroyed, affinity 0) first.
      if (step === 'claim') await daemon.api('POST', '/api/v1/tenants/alice/release', { workload: 'echo' });
      await daemon.stop();
      // A move under test is to a new version: alice's instance is of the old one when the daemon starts.
      if (step === 'upgrade') {
        const v2 = await echoWorkload({
          ...workload,
          'STATE_DIR: /data': 'STATE_DIR: /data\n  RELEASE: "2"',
        });
        await writeFile(join(dirs.workloadsDir, 'echo.yaml'), v2);
      }

      const crashing = await spawnDaemon(dirs, { BOILERHOUSE_CRASH_AT: point });
      daemon = crashing;
      const died = once(crashing.child, 'exit');
      const action =
        step === 'claim'
          ? claim(crashing)
          : step === 'release'
            ? crashing.api('POST', '/api/v1/tenants/alice/release', { workload: 'echo' })
            : step === 'destroy'
              ? crashing.api('DELETE', `/api/v1/instances/${first.instance.id}`)
              : step === 'upgrade'
                ? crashing.api('POST', '/api/v1/workloads/echo/upgrade', { now: true })
                : run('docker', ['kill', first.instance.container_id]);
      await action.catch(() => undefined);
      const [, signal] = (await died) as [number | null, string | null];
      expect(signal).toBe('SIGKILL');

      daemon = await spawnDaemon(dirs, {});
      const restarted = daemon;
      // A tenant being moved is claimed again by itself, on the new version, once recovery saved its old one.
      if (step === 'upgrade') {
        type Tenant = { instances: { phase: string; version_status: string }[] };
        const resumed = () =>
          restarted
            .api<Tenant>('GET', '/api/v1/tenants/alice')
            .then(({ instances }) =>
              instances.some((i) => i.phase === 'claimed' && i.version_status === 'current'),
            );
        await waitFor(resumed, 30_000, 'alice claimed again on the new version');
      }
      const back = await waitFor(
        () => claim(restarted).catch(() => undefined),
        30_000,
        'alice claimed again',
      );
      expect(await counter(back)).toBe(3);

      const { events } = await restarted.api<{ events: { type: string; data: Record<string, number> }[] }>(
        'GET',
        '/api/v1/events?limit=200',
      );
      expect(events.some((event) => event.type === 'daemon.recovered')).toBe(true);
      const metrics = await (
        await fetch(`${restarted.url}/metrics`, { headers: { Authorization: `Bearer ${dirs.apiKey}` } })
      ).text();
      const recovered = ['adopted', 'rolled_back', 'finished', 'failed'].reduce(
        (sum, action) => sum + sampleSum(metrics, 'boilerhouse_last_recovery_instances', { action }),
        0,
      );
      // Whatever it found was one of these: the claimed (or interrupted) instance of alice, the ready one.
      expect(recovered).toBeGreaterThan(0);

      const { instances } = await restarted.api<{ instances: { id: string }[] }>('GET', '/api/v1/instances');
      await waitFor(
        async () =>
          JSON.stringify(
            await orphansOf({
              runtime,
              daemonId,
              dataDir: dirs.dataDir,
              instances: instances.map((i) => i.id),
            }),
          ) === JSON.stringify(NO_ORPHANS),
        10_000,
        'no orphans',
      );
    } finally {
      await daemon?.stop().catch(() => undefined);
      await removeDaemonLeftovers(runtime, daemonId, dirs.dataDir);
      runtime.close();
      await rm(root, { recursive: true, force: true });
    }
  },
  120_000,
);
