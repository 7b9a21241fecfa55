/**
 * The gateway (issue 16), in one run against baselines measured in the same run:
 *
 *   overhead  keep-alive requests to a claimed echo instance at its own network address (direct) and
 *             through the gateway: latency distributions, the added p50/p99, and requests/s with 8 clients,
 *             in rounds that alternate direct, the gateway and a ceiling: a plain Node proxy in a process of
 *             its own (plain-proxy.ts), which is what any proxy in the gateway's place costs on this machine.
 *             Each round also says what the proxying process spent in CPU per request, and how busy the host was
 *   wake      time to first byte of a request that wakes its tenant (hit: reserved; warm; cold), next to
 *             the claim alone on the same path
 *   held      the socket host holding 1,000 idle keep-alive connections and 200 open SSE streams: its
 *             memory, and the p99 of other requests meanwhile (against the p99 before)
 *
 *   npm run bench:gateway -- [--requests 2000] [--rounds 5] [--throughput-rounds 5] [--json]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { callGateway } from '../packages/boilerhouse/src/gateway/testing.ts';
import { hostPaths } from '../packages/boilerhouse/src/proxy/host/paths.ts';
import { echoWorkload, startHarness, waitFor } from '../packages/boilerhouse/src/testing/harness.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'throughput-rounds': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(flags.requests);
const ROUNDS = Number(flags.rounds);
const THROUGHPUT_ROUNDS = Number(flags['throughput-rounds']);
const THROUGHPUT_MS = 3_000;

const workload = async (id: string, minIdle: number) =>
  `${await echoWorkload({ 'id: echo': `id: ${id}`, 'path: sinks/echo': `path: sinks/${id}`, 'min_idle: 2': `min_idle: ${minIdle}`, 'max_size: 10': 'max_size: 50' })}\ngateway:\n  port: 8080\n  auth: none\n`;

const harness = await startHarness(
  { 'warm.yaml': await workload('warm', 2), 'cold.yaml': await workload('cold', 0) },
  { gateway: { host: '127.0.0.1', port: 0, domain: null }, intervals: { fillMs: 200 } },
);
const bh = harness.boilerhouse;
const port = Number(new URL(bh.gateway?.url as string).port);
const hostPid = async () => Number((await readFile(hostPaths(harness.dataDir).pid, 'utf8')).trim());
const hostRss = async () =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${await hostPid()}/status`, 'utf8'))?.[1]) / 1024;

/** CPU time a process has used so far, in ms (utime + stime; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of the whole host so far (all cores, in clock ticks): busy and in all. */
function hostCpu(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  const total = ticks.reduce((sum, n) => sum + n, 0);
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

/** The ceiling: plain-proxy.ts in a process of its own, forwarding to `host:port`. */
async function startPlainProxy(
  host: string,
  port: number,
): Promise<{ port: number; pid: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [new URL('./plain-proxy.ts', import.meta.url).pathname, host, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { port: Number(line), pid: child.pid as number, stop: () => child.kill() };
}

function get(url: { port: number; host: string; path: string }, agent: Agent): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: url.host, port: url.port, path: url.path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - start));
    });
    req.on('error', reject);
    req.end();
  });
}

async function latencies(url: { port: number; host: string; path: string }, n: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await get(url, agent));
  agent.destroy();
  return out;
}

interface Round {
  rps: number;
  /** CPU the proxying process used per request, in µs (none for direct). */
  proxyCpuMicros?: number;
  /** Share of the host's CPU (both cores) in use meanwhile. */
  hostBusy: number;
}

async function throughputRound(
  url: { port: number; host: string; path: string },
  proxyPid: number | undefined,
): Promise<Round> {
  const cpuBefore = proxyPid === undefined ? 0 : processCpuMs(proxyPid);
  const hostBefore = hostCpu();
  const rps = await throughput(url, THROUGHPUT_MS);
  const hostAfter = hostCpu();
  const round: Round = {
    rps,
    hostBusy: (hostAfter.busy - hostBefore.busy) / (hostAfter.total - hostBefore.total),
  };
  if (proxyPid !== undefined)
    round.proxyCpuMicros = ((processCpuMs(proxyPid) - cpuBefore) * 1000) / (rps * (THROUGHPUT_MS / 1000));
  return round;
}

const median = (values: number[]) => distribution(values).p50;

async function throughput(url: { port: number; host: string; path: string }, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const until = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        await get(url, agent);
        done++;
      }
    }),
  );
  agent.destroy();
  return done / (ms / 1000);
}

try {
  await waitFor(() => bh.pool('warm').instances.ready >= 2, 60_000, 'a warm pool');
  // Overhead.
  const claimed = await bh.claim('bench', 'warm');
  const direct = { host: claimed.instance.address as string, port: 8080, path: '/x' };
  const through = { host: '127.0.0.1', port, path: '/warm/bench/x' };
  await latencies(through, 200);
  await latencies(direct, 200);
  const directMs = await latencies(direct, REQUESTS);
  const gatewayMs = await latencies(through, REQUESTS);
  const plain = await startPlainProxy(direct.host, direct.port);
  const ceiling = { host: '127.0.0.1', port: plain.port, path: '/x' };
  const sides = {
    direct: { url: direct, pid: undefined },
    gateway: { url: through, pid: await hostPid() },
    'plain proxy (ceiling)': { url: ceiling, pid: plain.pid },
  };
  type Side = keyof typeof sides;
  const rounds: Record<Side, Round[]> = { direct: [], gateway: [], 'plain proxy (ceiling)': [] };
  const names = Object.keys(sides) as Side[];
  try {
    for (const name of names) await throughput(sides[name].url, 500);
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      // Each side goes first in turn, so a drift of the shared machine lands on all of them.
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length] as Side;
        rounds[name].push(await throughputRound(sides[name].url, sides[name].pid));
      }
    }
  } finally {
    plain.stop();
  }
  const ratios = (side: Side) => rounds[side].map((round, i) => round.rps / (rounds.direct[i] as Round).rps);
  const throughputRows = Object.fromEntries(
    names.map((name) => [
      name,
      {
        rpsMedian: median(rounds[name].map((round) => round.rps)),
        rpsRounds: rounds[name].map((round) => Math.round(round.rps)),
        ratioToDirectMedian: median(ratios(name)),
        proxyCpuMicrosMedian:
          name === 'direct' ? undefined : median(rounds[name].map((round) => round.proxyCpuMicros as number)),
        hostBusyMedian: median(rounds[name].map((round) => round.hostBusy)),
      },
    ]),
  ) as Record<
    Side,
    {
      rpsMedian: number;
      rpsRounds: number[];
      ratioToDirectMedian: number;
      proxyCpuMicrosMedian?: number;
      hostBusyMedian: number;
    }
  >;
  const gatewayRatio = throughputRows.gateway.ratioToDirectMedian;
  const ceilingRatio = throughputRows['plain proxy (ceiling)'].ratioToDirectMedian;
  const d = distribution(directMs);
  const g = distribution(gatewayMs);

  // Wake on request, next to the claim alone.
  const wake: Record<string, number[]> = {};
  const add = (name: string, value: number) => {
    wake[name] = [...(wake[name] ?? []), value];
  };
  const ttfb = async (path: string) => {
    const start = performance.now();
    const answer = await callGateway(port, path);
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.body}`);
    return performance.now() - start;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const tenant = `wake-${round}`;
    await waitFor(() => bh.pool('warm').instances.ready >= 1, 60_000, 'a warm instance');
    add('warm: request', await ttfb(`/warm/${tenant}/`));
    await bh.release(tenant, 'warm');
    add('hit: request', await ttfb(`/warm/${tenant}/`));
    add('cold: request', await ttfb(`/cold/${tenant}/`));
    const alone = `alone-${round}`;
    await waitFor(() => bh.pool('warm').instances.ready >= 1, 60_000, 'a warm instance');
    add('warm: claim alone', (await bh.claim(alone, 'warm')).timingsMs.total);
    await bh.release(alone, 'warm');
    add('hit: claim alone', (await bh.claim(alone, 'warm')).timingsMs.total);
    add('cold: claim alone', (await bh.claim(alone, 'cold')).timingsMs.total);
  }

  // Held connections.
  const rssBefore = await hostRss();
  const p99Before = distribution(await latencies(through, 1000)).p99;
  const sockets: Socket[] = [];
  for (let i = 0; i < 1000; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /warm/bench/idle HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    sockets.push(socket);
  }
  for (let i = 0; i < 200; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.write(`GET /warm/bench/sse?every=1000 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    sockets.push(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const rssHeld = await hostRss();
  const p99Held = distribution(await latencies(through, 1000)).p99;
  for (const socket of sockets) socket.destroy();

  const wakeRows: Record<string, Distribution> = Object.fromEntries(
    Object.entries(wake).map(([name, values]) => [name, distribution(values)]),
  );
  const result = {
    overhead: {
      direct: d,
      gateway: g,
      addedP50Ms: g.p50 - d.p50,
      addedP99Ms: g.p99 - d.p99,
      throughput: throughputRows,
      rpsRatio: gatewayRatio,
      rpsRatioOfCeiling: gatewayRatio / ceilingRatio,
    },
    wake: wakeRows,
    held: { rssBeforeMiB: rssBefore, rssHeldMiB: rssHeld, p99BeforeMs: p99Before, p99HeldMs: p99Held },
  };
  if (flags.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log('overhead (keep-alive, one client)');
    console.log(formatTable({ direct: d, gateway: g }, d.p50));
    console.log(
      `added: p50 ${(g.p50 - d.p50).toFixed(3)} ms (target <= 1), p99 ${(g.p99 - d.p99).toFixed(3)} ms`,
    );
    console.log(
      `\nrequests/s with 8 keep-alive clients, ${THROUGHPUT_ROUNDS} rounds of ${THROUGHPUT_MS / 1000} s (medians; ratio: per round, to direct)`,
    );
    for (const [name, row] of Object.entries(throughputRows)) {
      const cpu =
        row.proxyCpuMicrosMedian === undefined
          ? ''
          : `, proxy CPU ${row.proxyCpuMicrosMedian.toFixed(0)} µs/req`;
      console.log(
        `${name.padEnd(22)} ${row.rpsMedian.toFixed(0).padStart(6)} req/s  ratio ${row.ratioToDirectMedian.toFixed(3)}  host ${(row.hostBusyMedian * 100).toFixed(0)}% busy${cpu}  rounds: ${row.rpsRounds.join(' ')}`,
      );
    }
    console.log(
      `gateway / direct ${gatewayRatio.toFixed(3)} (target >= 0.9); gateway / ceiling ${(gatewayRatio / ceilingRatio).toFixed(3)}`,
    );
    console.log('\nwake on request: time to first byte, next to the claim alone');
    console.log(formatTable(wakeRows, wakeRows['warm: claim alone']?.p50 ?? 1));
    console.log(
      `\nheld: 1,000 idle keep-alive connections + 200 SSE streams: host RSS ${rssBefore.toFixed(1)} -> ${rssHeld.toFixed(1)} MiB; p99 of other requests ${p99Before.toFixed(2)} -> ${p99Held.toFixed(2)} ms`,
    );
  }
} finally {
  await harness.cleanup();
}
