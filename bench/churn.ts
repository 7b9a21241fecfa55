/**
 * What one tenant's activity costs everyone else: API latency (GET /api/v1/tenants/{t} and /api/v1/pools
 * under a steady open-loop load) against a real daemon on the Docker engine, in interleaved phases:
 *
 *   quiet   nothing else happens
 *   churn   one tenant creates and deletes ~1,000 directories (a file in each) in a loop in its state volume
 *   flood   one tenant floods its health-answer FIFO with zeros while the health checks run every second
 *
 * The workload's file_idle_ttl is 2 s, so the idle pass over the churning volume runs all along. Also
 * printed: the daemon's event-loop delay per phase, the most inotify watches it held, and its RSS growth
 * over the flood phases.
 *
 *   npm run bench:churn -- [--rate 50] [--seconds 40] [--json]
 */

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
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
import { runLoad, type Sample } from './open-loop.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
  },
});
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);
const ROUNDS = 4;
const PHASES = ['quiet', 'churn', 'flood'] as const;
type Phase = (typeof PHASES)[number];
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

const churnScript = (forSeconds: number) => `end=$(( $(date +%s) + ${forSeconds} )); mkdir -p /data/work
while [ "$(date +%s)" -lt "$end" ]; do
  mkdir -p /data/work/churn/{1..50}/{1..20} && touch /data/work/churn/{1..50}/{1..20}/f && rm -rf /data/work/churn
done`;
// Zeros with no line in them, whenever the daemon opens the FIFO; touching a file keeps the tenant claimed.
const floodScript = (forSeconds: number) => `end=$(( $(date +%s) + ${forSeconds} ))
while [ "$(date +%s)" -lt "$end" ]; do
  touch /data/alive; timeout 1 sh -c 'head -c 100000000 /dev/zero > /.boilerhouse/run/health-response'
done; true`;

const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-churn-'));
const dataDir = join(root, 'data');
const workloadsDir = join(root, 'workloads');
const runtime = new DockerRuntime();
const key = randomBytes(24).toString('hex');
const headers = { Authorization: `Bearer ${key}` };
let daemon: Daemon | undefined;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${daemon?.url}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

/** inotify watches this process holds (the daemon runs in it). */
async function inotifyWatches(): Promise<number> {
  let watches = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) !== 'anon_inode:inotify') continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    watches += info.split('\n').filter((line) => line.startsWith('inotify ')).length;
  }
  return watches;
}

function cleanup(): Promise<number> {
  return tearDownDaemon({ daemon, runtime, root, dataDir });
}

process.once('SIGINT', () => {
  say('interrupted: cleaning up...');
  void cleanup().finally(() => process.exit(130));
});

try {
  await mkdir(workloadsDir, { recursive: true });
  const workload = await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    'file_idle_ttl: 5m': 'file_idle_ttl: 2s',
    'interval: 10s': 'interval: 1s',
    // The flooder's health checks fail; it must stay for the whole run.
    'retries: 3': 'retries: 100000',
  });
  await writeFile(join(workloadsDir, 'echo.yaml'), workload);
  daemon = await startDaemon(
    { ...configFromEnv({}), dataDir, workloadsDir, host: '127.0.0.1', port: 0 },
    silentLogger,
    { BOILERHOUSE_API_KEY: key },
  );
  const claim = async (tenant: string) =>
    (await (await api('POST', `/api/v1/tenants/${tenant}/claim`, { workload: 'echo' })).json()) as {
      instance: { id: string };
    };
  await claim('reader');
  const instanceOf = async (tenant: string) => {
    const { instance } = await claim(tenant);
    const found = daemon?.boilerhouse.instances().find((candidate) => candidate.id === instance.id);
    return found?.containerId as string;
  };
  const churner = await instanceOf('churner');
  const flooder = await instanceOf('flooder');

  const streams = [
    {
      name: 'reads',
      perSecond: rate,
      targets: [
        { path: '/api/v1/tenants/reader', route: 'GET /api/v1/tenants/{tenant}' },
        { path: '/api/v1/pools', route: 'GET /api/v1/pools' },
      ],
    },
  ];
  const samples: Record<Phase, Sample[]> = { quiet: [], churn: [], flood: [] };
  const loopDelay: Record<Phase, { p99: number; max: number }> = {
    quiet: { p99: 0, max: 0 },
    churn: { p99: 0, max: 0 },
    flood: { p99: 0, max: 0 },
  };
  let mostWatches = 0;
  let floodRssGrowth = 0;
  const slice = seconds / ROUNDS;
  const loadBefore = loadavg()[0] as number;
  say('warm-up, 3 s...');
  await runLoad({ base: daemon.url, headers, seconds: 3, streams });
  say(`${ROUNDS} rounds of ${PHASES.join(', ')}, ${slice} s each, ${rate} requests/s...`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const phase of PHASES) {
      const monitor = monitorEventLoopDelay({ resolution: 5 });
      const rssBefore = process.memoryUsage().rss;
      let busy = true;
      const watching = (async () => {
        while (busy) {
          mostWatches = Math.max(mostWatches, await inotifyWatches());
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      const tenantWork =
        phase === 'churn'
          ? runtime.exec(churner, ['bash', '-c', churnScript(slice)], { timeoutMs: slice * 1000 + 60_000 })
          : phase === 'flood'
            ? runtime.exec(flooder, ['sh', '-c', floodScript(slice)], { timeoutMs: slice * 1000 + 60_000 })
            : undefined;
      monitor.enable();
      samples[phase].push(...(await runLoad({ base: daemon.url, headers, seconds: slice, streams })));
      monitor.disable();
      busy = false;
      await watching;
      await tenantWork;
      if (phase === 'flood') floodRssGrowth = Math.max(floodRssGrowth, process.memoryUsage().rss - rssBefore);
      loopDelay[phase] = {
        p99: Math.max(loopDelay[phase].p99, monitor.percentile(99) / 1e6),
        max: Math.max(loopDelay[phase].max, monitor.max / 1e6),
      };
    }
  }
  const loadAfter = loadavg()[0] as number;
  const flooderPhase = daemon.boilerhouse.tenant('flooder').instances[0]?.phase;
  const churnerPhase = daemon.boilerhouse.tenant('churner').instances[0]?.phase;
  const leaked = await cleanup();
  daemon = undefined;

  const rows: Record<string, Distribution> = {
    'API reads, nothing else': distribution(samples.quiet.map((sample) => sample.ms)),
    'API reads, one tenant churning files': distribution(samples.churn.map((sample) => sample.ms)),
    'API reads, one tenant flooding its health FIFO': distribution(samples.flood.map((sample) => sample.ms)),
  };
  const failed = PHASES.flatMap((phase) => samples[phase]).filter((sample) => sample.status !== 200).length;
  const report = {
    rate,
    secondsPerPhase: seconds,
    latencyMs: rows,
    eventLoopDelayMs: loopDelay,
    mostInotifyWatches: mostWatches,
    floodRssGrowthBytes: floodRssGrowth,
    endPhases: { churner: churnerPhase, flooder: flooderPhase },
    hostLoadAverage1m: { before: loadBefore, after: loadAfter },
    failedRequests: failed,
    leakedContainers: leaked,
  };
  if (flags.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(formatTable(rows, rows['API reads, nothing else']?.p50 ?? Number.NaN));
    console.log('');
    for (const phase of PHASES) {
      console.log(
        `${phase}: daemon event-loop delay p99 ${loopDelay[phase].p99.toFixed(1)} ms, max ${loopDelay[phase].max.toFixed(1)} ms`,
      );
    }
    console.log(
      `most inotify watches held by the daemon: ${mostWatches}; RSS growth over a flood phase: ${(floodRssGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    console.log(
      `at the end: churner ${churnerPhase}, flooder ${flooderPhase}; failed requests: ${failed}; host load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after; containers left: ${leaked}`,
    );
  }
} finally {
  if (daemon !== undefined) {
    say('cleaning up after a failure...');
    await cleanup();
  }
}
