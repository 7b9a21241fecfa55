/**
 * What a daemon restart costs an agent using its filtered Docker socket (issue 15): a loop of `docker ps`
 * (GET /containers/json, a new connection each) and an attach stream on a child that prints every 100 ms,
 * through a claimed instance's socket, while the daemon restarts, in rounds:
 *
 *   graceful  Boilerhouse.stop(), then a new Boilerhouse on the same data directory (in this process)
 *   kill      kill -9 of a daemon process, then a new daemon process on the same data directory
 *
 * Requests that were in flight at any moment of a restart are "during"; the rest of the same run is the
 * baseline. Printed: the distributions side by side with p50/p95/max as ratios of the baseline's, requests
 * that failed (the target is none), and the longest silence of the stream during and outside restarts.
 *
 *   npm run bench:socket-restart -- [--rounds 5] [--json]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Sample, startTicker, startTraffic } from '../packages/boilerhouse/src/proxy/host/traffic.ts';
import { CHILD_IMAGE } from '../packages/boilerhouse/src/proxy/testing.ts';
import { DockerRuntime } from '../packages/boilerhouse/src/runtime/docker.ts';
import { MemoryDirs } from '../packages/boilerhouse/src/secrets/index.ts';
import { echoWorkload, startHarness } from '../packages/boilerhouse/src/testing/harness.ts';
import { removeDaemonLeftovers } from '../packages/boilerhouse/src/testing/leftovers.ts';
import { type DaemonProcess, daemonDirs, spawnDaemon } from '../test/e2e/testing/daemon-process.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const rounds = Number(flags.rounds);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BASELINE_MS = 1_500;

const workload =
  (await echoWorkload({ 'min_idle: 2': 'min_idle: 0' })) +
  `\ndocker:\n  images: ["${CHILD_IMAGE.split(':')[0]}:*"]\n  max_containers: 3\n  limits: { cpus: 0.5, memory: 64M, pids: 64 }\n`;
const socketOf = (dataDir: string, instance: string) =>
  join(dataDir, 'instances', instance, 'docker', 'docker.sock');

interface ModeResult {
  samples: Sample[];
  /** [start, end] of each restart (performance.now()). */
  windows: [number, number][];
  chunks: number[];
  streamEnded?: string;
}

/** Baseline, restart, baseline, ... with traffic all along; `restart` does one restart. */
async function measure(socket: string, restart: () => Promise<void>): Promise<ModeResult> {
  await startTicker(socket, CHILD_IMAGE, 'ticker');
  const traffic = startTraffic(socket, 'ticker');
  const windows: [number, number][] = [];
  await pause(BASELINE_MS);
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    await restart();
    windows.push([start, performance.now()]);
    say(`  round ${round + 1}: restarted in ${(performance.now() - start).toFixed(0)} ms`);
    await pause(BASELINE_MS);
  }
  const report = await traffic.stop();
  return {
    samples: report.samples,
    windows,
    chunks: report.streamChunks,
    ...(report.streamEnded === undefined ? {} : { streamEnded: report.streamEnded }),
  };
}

async function graceful(): Promise<ModeResult> {
  const harness = await startHarness({ 'echo.yaml': workload });
  try {
    const { instance } = await harness.boilerhouse.claim('bench', 'echo');
    return await measure(socketOf(harness.dataDir, instance.id), async () => {
      await harness.restart();
    });
  } finally {
    await harness.cleanup();
  }
}

async function kill(): Promise<ModeResult> {
  const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-restart-'));
  const dirs = daemonDirs(root);
  await mkdir(dirs.workloadsDir, { recursive: true });
  await writeFile(join(dirs.workloadsDir, 'echo.yaml'), workload);
  let daemon: DaemonProcess | undefined = await spawnDaemon(dirs, {});
  const daemonId = daemon.daemonId;
  try {
    const claim = await daemon.api<{ instance: { id: string } }>('POST', '/api/v1/tenants/bench/claim', {
      workload: 'echo',
    });
    return await measure(socketOf(dirs.dataDir, claim.instance.id), async () => {
      await daemon?.kill();
      daemon = await spawnDaemon(dirs, {});
    });
  } finally {
    await daemon?.stop();
    const runtime = new DockerRuntime();
    await removeDaemonLeftovers(runtime, daemonId, dirs.dataDir);
    runtime.close();
    await rm(root, { recursive: true, force: true });
    await rm(new MemoryDirs(dirs.dataDir).root, { recursive: true, force: true });
  }
}

const overlaps = (windows: [number, number][], from: number, to: number) =>
  windows.some(([start, end]) => from <= end && to >= start);

/** Gaps between stream chunks, split by whether they overlap a restart. */
function streamGaps(result: ModeResult): { during: number; outside: number } {
  let during = 0;
  let outside = 0;
  for (let i = 1; i < result.chunks.length; i++) {
    const from = result.chunks[i - 1] as number;
    const to = result.chunks[i] as number;
    if (overlaps(result.windows, from, to)) during = Math.max(during, to - from);
    else outside = Math.max(outside, to - from);
  }
  return { during, outside };
}

const output: Record<string, unknown> = {};
for (const [mode, run] of [
  ['graceful', graceful],
  ['kill', kill],
] as const) {
  say(`${mode}: ${rounds} restarts with docker ps in a loop and an attach stream open`);
  const result = await run();
  const during = result.samples.filter((s) => overlaps(result.windows, s.at, s.at + s.ms));
  const outside = result.samples.filter((s) => !overlaps(result.windows, s.at, s.at + s.ms));
  const rows: Record<string, Distribution> = {
    'outside restarts': distribution(outside.map((s) => s.ms)),
    'during restarts': distribution(during.map((s) => s.ms)),
  };
  const base = rows['outside restarts'] as Distribution;
  const dur = rows['during restarts'] as Distribution;
  const failed = result.samples.filter((s) => s.error !== undefined);
  const gaps = streamGaps(result);
  output[mode] = {
    rows,
    ratios: { p50: dur.p50 / base.p50, p95: dur.p95 / base.p95, max: dur.max / base.max },
    failed: failed.length,
    errors: [...new Set(failed.map((s) => s.error))],
    restartMs: result.windows.map(([start, end]) => end - start),
    streamGapMs: gaps,
    streamEnded: result.streamEnded ?? null,
  };
  say(formatTable(rows, base.p50));
  say(
    `  during / outside: p50 ${(dur.p50 / base.p50).toFixed(2)}x, p95 ${(dur.p95 / base.p95).toFixed(2)}x, max ${(dur.max / base.max).toFixed(2)}x`,
  );
  say(
    `  failed requests: ${failed.length} of ${result.samples.length}${failed.length ? ` (${[...new Set(failed.map((s) => s.error))].join('; ')})` : ''}`,
  );
  say(
    `  stream: longest silence ${gaps.during.toFixed(0)} ms during restarts, ${gaps.outside.toFixed(0)} ms outside (the child prints every 100 ms); ${result.streamEnded ? `ended: ${result.streamEnded}` : 'never broke'}`,
  );
}
if (flags.json) process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
