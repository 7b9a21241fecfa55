/**
 * API read latency under a steady open-loop load (200 requests/s by default, round robin over GET
 * /api/v1/pools, /api/v1/instances, /api/v1/tenants/{t} and /api/v1/events) against a real daemon holding
 * 16 pools and 500 real instances on the Docker engine; and what GET /metrics costs at that size: its own
 * latency, and the reads' latency while it is scraped every second against the same reads without it,
 * measured in the same run (alternating phases).
 *
 *   npm run bench:api -- [--rate 200] [--seconds 30] [--pools 16] [--instances 500] [--json]
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../packages/boilerhouse/src/config.ts';
import { type Daemon, startDaemon } from '../packages/boilerhouse/src/daemon.ts';
import { silentLogger } from '../packages/boilerhouse/src/log.ts';
import { DockerRuntime } from '../packages/boilerhouse/src/runtime/docker.ts';
import { echoWorkload } from '../packages/boilerhouse/src/testing/harness.ts';
import { tearDownDaemon } from '../packages/boilerhouse/src/testing/leftovers.ts';
import { type LoadStream, runLoad, type Sample } from './open-loop.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '30' },
    pools: { type: 'string', default: '16' },
    instances: { type: 'string', default: '500' },
    json: { type: 'boolean', default: false },
  },
});
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);
const poolCount = Number(flags.pools);
const instanceCount = Number(flags.instances);
/** Per pool: one tenant holds its instance (claimed), one has released it (reserved); the rest are ready. */
const TENANTS_PER_POOL = 2;
const TARGET_P99_MS = 20;
/** The comparison alternates this many times between reads alone and reads with scrapes. */
const ROUNDS = 6;
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-api-'));
const dataDir = join(root, 'data');
const workloadsDir = join(root, 'workloads');
const runtime = new DockerRuntime();
const key = randomBytes(24).toString('hex');
const headers = { Authorization: `Bearer ${key}` };
let daemon: Daemon | undefined;

/** CPU time of the whole host so far (all cores, in clock ticks): busy and in all. */
function hostCpu(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  const total = ticks.reduce((sum, n) => sum + n, 0);
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

/** What one side of the comparison cost: the daemon's event-loop delay, this process's CPU, the host's. */
class Side {
  /** Per phase: the event-loop delay's p99 and max, in ms (a fresh monitor each, so pauses between phases never count). */
  readonly loopDelays: { p99: number; max: number }[] = [];
  cpuMicros = 0;
  wallMs = 0;
  hostBusy = 0;
  hostTotal = 0;

  async measure<T>(work: () => Promise<T>): Promise<T> {
    const loop = monitorEventLoopDelay({ resolution: 5 });
    const cpu = process.cpuUsage();
    const host = hostCpu();
    const began = performance.now();
    loop.enable();
    try {
      return await work();
    } finally {
      loop.disable();
      this.loopDelays.push({ p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
      const used = process.cpuUsage(cpu);
      this.cpuMicros += used.user + used.system;
      this.wallMs += performance.now() - began;
      const now = hostCpu();
      this.hostBusy += now.busy - host.busy;
      this.hostTotal += now.total - host.total;
    }
  }

  summary() {
    return {
      /** The worst phase's. */
      eventLoopDelayMs: {
        p99: Math.max(...this.loopDelays.map((delay) => delay.p99)),
        max: Math.max(...this.loopDelays.map((delay) => delay.max)),
      },
      /** This process (daemon and load generator), in cores. */
      processCores: this.cpuMicros / 1000 / this.wallMs,
      /** The whole host (every process, both cores), in %. */
      hostBusyPercent: (100 * this.hostBusy) / this.hostTotal,
    };
  }
}

/**
 * Waits until the host has been under 25% busy for 2 s (the engine keeps working for a while after
 * creating 500 containers), at most a minute; returns the seconds waited.
 */
async function settle(): Promise<number> {
  const began = performance.now();
  while (performance.now() - began < 60_000) {
    const before = hostCpu();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = hostCpu();
    if ((after.busy - before.busy) / (after.total - before.total) < 0.25) break;
  }
  return (performance.now() - began) / 1000;
}

function memAvailableBytes(): number {
  const line = readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB$/m);
  return Number(line?.[1] ?? Number.NaN) * 1024;
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${daemon?.url}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

/** 16 copies of the echo workload whose pools sum to `instanceCount`, with reservations and idle TTLs long enough to outlive the run. */
async function writeWorkloads(): Promise<string[]> {
  await mkdir(workloadsDir, { recursive: true });
  const ids: string[] = [];
  for (let i = 0; i < poolCount; i++) {
    const share = Math.floor(instanceCount / poolCount) + (i < instanceCount % poolCount ? 1 : 0);
    const id = `echo-${i + 1}`;
    const text = await echoWorkload({
      'id: echo': `id: ${id}`,
      'min_idle: 2': `min_idle: ${share - TENANTS_PER_POOL}`,
      'max_size: 10': `max_size: ${share + 4}`,
      'affinity_timeout: 10m': 'affinity_timeout: 2h',
      'file_idle_ttl: 5m': 'file_idle_ttl: 2h',
    });
    await writeFile(join(workloadsDir, `${id}.yaml`), text);
    ids.push(id);
  }
  return ids;
}

/** Waits until every pool has its ready instances and nothing is being created; reports progress. */
async function waitForFill(): Promise<void> {
  const boilerhouse = daemon?.boilerhouse;
  if (boilerhouse === undefined) throw new Error('no daemon');
  let lastSaid = 0;
  for (;;) {
    const pools = boilerhouse.pools();
    const ready = pools.reduce((sum, pool) => sum + pool.instances.ready, 0);
    const full = pools.every((pool) => pool.instances.ready >= pool.minIdle && pool.instances.creating === 0);
    const failing = pools.find((pool) => pool.fill.consecutiveFailures > 2);
    if (failing !== undefined) throw new Error(`${failing.workload} cannot fill: ${failing.fill.lastError}`);
    if (full) return;
    if (performance.now() - lastSaid > 10_000) {
      say(`  ${ready} ready instances so far`);
      lastSaid = performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A row for all of the samples, then one per route, each named with `suffix`. */
function byRoute(samples: Sample[], label: string, suffix: string): Record<string, Distribution> {
  const rows: Record<string, Distribution> = {};
  rows[label] = distribution(samples.map((sample) => sample.ms));
  for (const route of [...new Set(samples.map((sample) => sample.route))]) {
    rows[`  ${route}${suffix}`] = distribution(samples.filter((s) => s.route === route).map((s) => s.ms));
  }
  return rows;
}

function cleanup(): Promise<number> {
  return tearDownDaemon({ daemon, runtime, root, dataDir });
}

// 500 containers must not outlive an interrupted run.
process.once('SIGINT', () => {
  say('interrupted: cleaning up...');
  void cleanup().finally(() => process.exit(130));
});

try {
  const ids = await writeWorkloads();
  const availableBefore = memAvailableBytes();
  const fillStarted = performance.now();
  say(`starting a daemon with ${poolCount} pools, ${instanceCount} instances in all...`);
  daemon = await startDaemon(
    { ...configFromEnv({}), dataDir, workloadsDir, host: '127.0.0.1', port: 0 },
    silentLogger,
    { BOILERHOUSE_API_KEY: key },
  );
  await waitForFill();
  const tenants: string[] = [];
  for (const id of ids) {
    for (let t = 0; t < TENANTS_PER_POOL; t++) {
      const tenant = `bench-${id}-${t}`;
      await api('POST', `/api/v1/tenants/${tenant}/claim`, { workload: id });
      tenants.push(tenant);
    }
    // The first tenant releases: its instance stays reserved for it.
    await api('POST', `/api/v1/tenants/bench-${id}-0/release`, { workload: id });
  }
  await waitForFill();
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const availableAfter = memAvailableBytes();
  const instances = daemon.boilerhouse.instances();
  if (instances.length !== instanceCount || daemon.boilerhouse.pools().length !== poolCount) {
    throw new Error(`expected ${instanceCount} instances in ${poolCount} pools, got ${instances.length}`);
  }
  say(`${instances.length} instances in ${poolCount} pools after ${fillSeconds.toFixed(0)} s`);

  const reads: LoadStream = {
    name: 'reads',
    perSecond: rate,
    targets: tenants.flatMap((tenant) => [
      { path: '/api/v1/pools', route: 'GET /api/v1/pools' },
      { path: '/api/v1/instances', route: 'GET /api/v1/instances' },
      { path: `/api/v1/tenants/${tenant}`, route: 'GET /api/v1/tenants/{tenant}' },
      { path: '/api/v1/events', route: 'GET /api/v1/events' },
    ]),
  };
  const scrapes: LoadStream = {
    name: 'scrapes',
    perSecond: 1,
    targets: [{ path: '/metrics', route: 'GET /metrics' }],
  };
  const base = daemon.url;
  const load = (streams: LoadStream[], phaseSeconds: number) =>
    runLoad({ base, headers, seconds: phaseSeconds, streams });

  say('letting the engine settle after the fill...');
  const settleSeconds = await settle();
  const loadBefore = loadavg()[0] as number;
  say('warm-up, 5 s...');
  await load([reads], 5);
  const baseline: Sample[] = [];
  const scraped: Sample[] = [];
  const alone = new Side();
  const withScrapes = new Side();
  // Alternating rounds, so that drift over the run and other work on the host weigh on both sides alike.
  const slice = seconds / ROUNDS;
  say(`${ROUNDS} rounds of reads alone, then with /metrics scraped every second, ${slice} s each...`);
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(...(await alone.measure(() => load([reads], slice))));
    scraped.push(...(await withScrapes.measure(() => load([reads, scrapes], slice))));
  }
  const loadAfter = loadavg()[0] as number;
  say('each route on its own, 100 requests 50 ms apart...');
  // Service times: the same client, but each request alone on the server.
  const serviceTimes: Record<string, Distribution> = {};
  for (const target of [...reads.targets.slice(0, 4), ...scrapes.targets]) {
    const samples = await load([{ name: 'alone', targets: [target], perSecond: 20 }], 5);
    serviceTimes[`${target.route}, one at a time`] = distribution(samples.map((sample) => sample.ms));
  }
  const metricsText = await (await api('GET', '/metrics')).text();
  const series = metricsText.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  const metricsBytes = Buffer.byteLength(metricsText);

  const readsOf = (samples: Sample[]) => samples.filter((sample) => sample.stream === 'reads');
  const failures: Record<string, number> = {};
  for (const sample of [...baseline, ...scraped]) {
    if (sample.status !== 200) failures[sample.status] = (failures[sample.status] ?? 0) + 1;
  }
  const baseReads = readsOf(baseline);
  const scrapedReads = readsOf(scraped);
  const results: Record<string, Distribution> = {
    ...byRoute(baseReads, 'reads alone', ''),
    ...byRoute(scrapedReads, 'reads, /metrics scraped every 1 s', ', scraped'),
    'GET /metrics, during the reads': distribution(
      scraped.filter((sample) => sample.stream === 'scrapes').map((sample) => sample.ms),
    ),
    ...serviceTimes,
  };
  const all = (samples: Sample[]) => distribution(samples.map((sample) => sample.ms));
  const before = all(baseReads);
  const during = all(scrapedReads);
  const late = distribution([...baseline, ...scraped].map((sample) => sample.lateMs));
  const bytesPerRoute = Object.fromEntries(
    [...new Set(baseReads.map((sample) => sample.route))].map((route) => [
      route,
      baseReads.find((sample) => sample.route === route)?.bytes ?? 0,
    ]),
  );
  const leaked = await cleanup();
  daemon = undefined;

  const report = {
    rate,
    secondsPerSide: seconds,
    pools: poolCount,
    instances: instanceCount,
    tenants: tenants.length,
    fillSeconds,
    memoryUsedByInstancesBytes: availableBefore - availableAfter,
    latencyMs: results,
    scrapedOverBaseline: { p50: during.p50 / before.p50, p99: during.p99 / before.p99 },
    readsP99UnderTarget: before.p99 < TARGET_P99_MS,
    responseBytes: { ...bytesPerRoute, 'GET /metrics': metricsBytes },
    metricsSeries: series,
    loadGeneratorLateMs: { p99: late.p99, max: late.max },
    costs: { readsAlone: alone.summary(), readsWithScrapes: withScrapes.summary() },
    hostLoadAverage1m: { before: loadBefore, after: loadAfter },
    settleSeconds,
    failedRequestsByStatus: failures,
    leakedContainers: leaked,
  };
  if (flags.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(formatTable(results, before.p50));
    console.log(
      `\nreads p99 ${before.p99.toFixed(1)} ms alone (target < ${TARGET_P99_MS} ms: ${report.readsP99UnderTarget ? 'met' : 'NOT met'}); with /metrics scraped every second: p50 x${report.scrapedOverBaseline.p50.toFixed(2)}, p99 x${report.scrapedOverBaseline.p99.toFixed(2)}`,
    );
    console.log(
      `response sizes: ${Object.entries(report.responseBytes)
        .map(([route, bytes]) => `${route} ${(bytes / 1024).toFixed(1)} KiB`)
        .join(', ')}; ${series} series in /metrics`,
    );
    console.log(
      `${instanceCount} instances in ${poolCount} pools (${tenants.length} tenants) ready after ${fillSeconds.toFixed(0)} s, using ${(report.memoryUsedByInstancesBytes / 2 ** 30).toFixed(2)} GiB of host memory`,
    );
    for (const [name, side] of Object.entries(report.costs)) {
      console.log(
        `${name}: daemon event-loop delay p99 ${side.eventLoopDelayMs.p99.toFixed(1)} ms, max ${side.eventLoopDelayMs.max.toFixed(1)} ms; this process ${side.processCores.toFixed(2)} cores; host ${side.hostBusyPercent.toFixed(0)}% busy`,
      );
    }
    console.log(
      `host load average (1 min) ${loadBefore.toFixed(1)} before the reads (after ${settleSeconds.toFixed(0)} s to settle), ${loadAfter.toFixed(1)} after`,
    );
    console.log(
      `load generator lateness: p99 ${late.p99.toFixed(2)} ms, max ${late.max.toFixed(2)} ms; failed requests: ${JSON.stringify(failures)}; containers left on the engine: ${leaked}`,
    );
  }
} finally {
  if (daemon !== undefined) {
    say('cleaning up after a failure...');
    await cleanup();
  }
}
