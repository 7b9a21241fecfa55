/**
 * Claim latency per path (warm, cold, hit, hit with reserve: pause) next to a `docker run` baseline,
 * every side measured the same way and their samples interleaved in one run (each round runs every side
 * once, starting from a different one, after the daemons have gone quiet). Readiness is measured from the
 * host as a client sees it, on every side: the time from the call (the Engine API's create for the
 * baseline, `claim` for Boilerhouse) to the first 200 answer of the workload's port (GET /health through
 * the published port), then to the workload's health test passing by `docker exec`. Boilerhouse's own
 * figures (its claim call, which checks readiness through the gate's health agent) are printed beside
 * them. Also release latency, idle memory of a reserved instance, and claims/s with 8 concurrent HTTP
 * clients.
 *
 *   npm run bench -- [--samples 200] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type HealthcheckSpec,
  loadWorkload,
  type WorkloadSpec,
  workloadEnvironment,
} from '@boilerhouse/spec';
import { serve } from '@hono/node-server';
import { createApp } from '../packages/boilerhouse/src/api/app.ts';
import { Auth } from '../packages/boilerhouse/src/api/auth.ts';
import { Boilerhouse } from '../packages/boilerhouse/src/boilerhouse.ts';
import { configFromEnv } from '../packages/boilerhouse/src/config.ts';
import { type Database, openDatabase } from '../packages/boilerhouse/src/db/database.ts';
import type { Phase } from '../packages/boilerhouse/src/db/instances.ts';
import { createToken, hashSecret } from '../packages/boilerhouse/src/db/tokens.ts';
import { silentLogger } from '../packages/boilerhouse/src/log.ts';
import type { ClaimResult } from '../packages/boilerhouse/src/pool/claims.ts';
import { LABEL } from '../packages/boilerhouse/src/pool/container-spec.ts';
import { InstanceFiles } from '../packages/boilerhouse/src/pool/instance-files.ts';
import { DockerRuntime } from '../packages/boilerhouse/src/runtime/docker.ts';
import { echoWorkload } from '../packages/boilerhouse/src/testing/harness.ts';
import { removeDaemonLeftovers } from '../packages/boilerhouse/src/testing/leftovers.ts';
import { firstAnswer, healthByExec } from './host-readiness.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { samples: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } },
});
const samples = Number(flags.samples);
/** Rounds run first and not counted: the engine's and the image's first starts are slower. */
const WARM_UP_ROUNDS = 3;
/** The echo workload's health test asks its own server for this path; the host asks for the same. */
const HEALTH_PATH = '/health';
const runtime = new DockerRuntime();
const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-'));
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

interface Bench {
  boilerhouse: Boilerhouse;
  db: Database;
  /** Stops the daemon and removes its containers; returns how many no instance row named (orphans). */
  stop(): Promise<number>;
}

const daemonIds: string[] = [];

/** A Boilerhouse of its own (own data dir, so own daemon id) serving one echo variant. */
async function boilerhouseWith(name: string, replacements: Record<string, string>): Promise<Bench> {
  const dir = join(root, name);
  await mkdir(join(dir, 'workloads'), { recursive: true });
  await writeFile(join(dir, 'workloads', 'echo.yaml'), await echoWorkload(replacements));
  const db = openDatabase(join(dir, 'boilerhouse.db'));
  const boilerhouse = new Boilerhouse({
    db,
    runtime,
    log: silentLogger,
    dataDir: dir,
    workloadsDir: join(dir, 'workloads'),
    gateBinary: configFromEnv({}).gateBinary,
    publishHost: '127.0.0.1',
    env: {},
    intervals: { fillMs: 50 },
  });
  await boilerhouse.start();
  daemonIds.push(boilerhouse.daemonId);
  return {
    boilerhouse,
    db,
    async stop() {
      await boilerhouse.stop();
      const left = await runtime.list({ [LABEL.daemon]: boilerhouse.daemonId });
      const named = new Set(boilerhouse.instances().map((instance) => instance.containerId));
      // Containers, networks, the socket host and the volume mounts outlive a stop, as for an upgrade.
      await removeDaemonLeftovers(runtime, boilerhouse.daemonId, dir);
      db.close();
      return left.filter((container) => !named.has(container.id)).length;
    },
  };
}

/** Waits until the daemon's echo pool holds exactly `expected` (phase -> count) and nothing else. */
async function quiet(bench: Bench, expected: Partial<Record<Phase, number>>): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const counts = bench.boilerhouse.pool('echo').instances;
    const settled = Object.entries(counts).every(
      ([phase, count]) => count === (expected[phase as Phase] ?? 0),
    );
    if (settled) return;
    if (performance.now() > deadline) throw new Error(`the pool did not settle: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One sample of one side: ms from its call to the first answer, and to the health test by docker exec. */
interface Ready {
  answer: number;
  exec: number;
}

/** From `started`: the first answer at `base`, then the health test by docker exec in `containerId`. */
async function readyFromHost(
  started: number,
  base: string,
  containerId: string,
  healthcheck: HealthcheckSpec,
): Promise<Ready> {
  await firstAnswer(base, HEALTH_PATH);
  const answer = performance.now() - started;
  await healthByExec(runtime, containerId, healthcheck);
  return { answer, exec: performance.now() - started };
}

type SideName = 'docker run (baseline)' | 'warm' | 'cold' | 'hit' | 'hit (reserve: pause)';
const SIDES: SideName[] = ['docker run (baseline)', 'warm', 'cold', 'hit', 'hit (reserve: pause)'];
const ready = Object.fromEntries(SIDES.map((side) => [side, [] as Ready[]])) as Record<SideName, Ready[]>;
/** Other figures, each from the same rounds. */
const parts: Record<string, number[]> = {};
const record = (name: string, value: number) => {
  parts[name] ??= [];
  parts[name].push(value);
};

const spec = loadWorkload(await echoWorkload(), { file: 'echo.yaml', env: workloadEnvironment({}) })
  .spec as WorkloadSpec;
const healthcheck = spec.healthcheck as HealthcheckSpec;
const [firstPort] = spec.expose;
if (firstPort === undefined) throw new Error('the echo workload exposes no port');
const servedPort: number = firstPort;

/** `docker run` + readiness: the same locked-down container, without a gate, through the Engine API. */
async function baselineSide(): Promise<(round: number) => Promise<Ready>> {
  const image = await runtime.inspectImage(spec.image);
  if (image === undefined) throw new Error(`${spec.image} is missing: run scripts/setup.sh`);
  const files = new InstanceFiles(
    join(root, 'baseline'),
    configFromEnv({}).gateBinary,
    join(root, 'workloads'),
  );
  return async (round) => {
    const id = `baseline-${round}`;
    const mounts = (await files.prepare(id, spec)).slice(2);
    const started = performance.now();
    const containerId = await runtime.create({
      name: `boilerhouse-bench-${process.pid}-${round}`,
      image: spec.image,
      env: spec.environment,
      labels: { 'boilerhouse.bench': 'baseline' },
      ...(spec.security.user ? { user: spec.security.user } : {}),
      readOnlyRootfs: spec.readOnly,
      networkMode: spec.networkMode,
      limits: {
        cpus: spec.resources.limits.cpus,
        memoryBytes: spec.resources.limits.memory,
        pids: spec.resources.limits.pids,
      },
      mounts,
      expose: spec.expose,
      publishHost: '127.0.0.1',
    });
    try {
      await runtime.start(containerId);
      // As `docker port` would: the engine picks the host port at start.
      const published = (await runtime.inspect(containerId))?.ports[servedPort];
      if (published === undefined) throw new Error('the baseline container has no published port');
      record('docker run: create + start + inspect', performance.now() - started);
      return await readyFromHost(started, `http://127.0.0.1:${published.hostPort}`, containerId, healthcheck);
    } finally {
      await runtime.remove(containerId);
      await files.remove(id);
    }
  };
}

function endpointOf(claim: ClaimResult): string {
  const endpoint = claim.endpoints.find((each) => each.port === servedPort);
  if (endpoint === undefined)
    throw new Error(`the claim of ${claim.tenant} has no endpoint for ${servedPort}`);
  return endpoint.url;
}

/** Warm (one ready instance waiting) or cold (none): claim a new tenant, measure, release (destroyed). */
async function claimSide(
  path: 'warm' | 'cold',
): Promise<{ bench: Bench; sample: (round: number) => Promise<Ready> }> {
  const bench = await boilerhouseWith(path, {
    'min_idle: 2': path === 'warm' ? 'min_idle: 1' : 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
  });
  const waiting = path === 'warm' ? { ready: 1 } : {};
  const sample = async (round: number) => {
    await quiet(bench, waiting);
    const tenant = `${path}-${round}`;
    const started = performance.now();
    const claim = await bench.boilerhouse.claim(tenant, 'echo');
    if (claim.path !== path) throw new Error(`expected a ${path} claim, got ${claim.path}`);
    const result = await readyFromHost(
      started,
      endpointOf(claim),
      claim.instance.containerId as string,
      healthcheck,
    );
    record(`${path}: claim call (port probe, health test by the gate's agent)`, claim.timingsMs.total);
    if (path === 'cold')
      record('  cold: create (network, container, start)', claim.timingsMs.create ?? Number.NaN);
    record(`  ${path}: gate to port open (app boot)`, claim.timingsMs.port ?? Number.NaN);
    record(`  ${path}: health test (gate's agent)`, claim.timingsMs.health ?? Number.NaN);
    await bench.boilerhouse.release(tenant, 'echo');
    return result;
  };
  return { bench, sample };
}

/** Affinity hits: release (reserve) and claim the same tenant again; also times the release. */
async function hitSide(mode: 'run' | 'pause'): Promise<{ bench: Bench; sample: () => Promise<Ready> }> {
  const bench = await boilerhouseWith(`hit-${mode}`, {
    'min_idle: 2': 'min_idle: 0',
    'max_size: 10': `max_size: 10\n  reserve: ${mode}`,
  });
  await bench.boilerhouse.claim('regular', 'echo');
  const sample = async () => {
    await quiet(bench, { claimed: 1 });
    const released = await bench.boilerhouse.release('regular', 'echo');
    record(`release (reserve: ${mode})`, released.timingsMs.total);
    const started = performance.now();
    const claim = await bench.boilerhouse.claim('regular', 'echo');
    if (claim.path !== 'hit') throw new Error(`expected a hit, got ${claim.path}`);
    return readyFromHost(started, endpointOf(claim), claim.instance.containerId as string, healthcheck);
  };
  return { bench, sample };
}

/** Idle memory of the reserved instance, after the last release. */
async function reservedMemory(bench: Bench): Promise<number> {
  await bench.boilerhouse.release('regular', 'echo');
  const [instance] = bench.boilerhouse.instances();
  return runtime.memoryUsage(instance?.containerId as string);
}

/** Claims per second from 8 concurrent HTTP clients, each claiming and releasing its own tenant. */
async function throughput(): Promise<number> {
  const bench = await boilerhouseWith('throughput', { 'min_idle: 2': 'min_idle: 0' });
  // With auth on, as a daemon runs: every request is authenticated with a scoped token.
  const auth = new Auth(bench.db, hashSecret(randomBytes(32).toString('hex')));
  const app = createApp(bench.boilerhouse, { auth, db: bench.db, log: silentLogger });
  const { token } = createToken(bench.db, {
    name: 'bench',
    scopes: ['tenants:claim'],
    expiresAt: null,
    now: Date.now(),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1`;
  const call = (tenant: string, action: string) =>
    fetch(`${base}/tenants/${tenant}/${action}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{"workload":"echo"}',
    }).then((r) => r.json());
  const clients = Array.from({ length: 8 }, (_, i) => `client-${i}`);
  await Promise.all(clients.map((tenant) => call(tenant, 'claim')));
  let claims = 0;
  const until = performance.now() + 5_000;
  const started = performance.now();
  await Promise.all(
    clients.map(async (tenant) => {
      while (performance.now() < until) {
        await call(tenant, 'release');
        await call(tenant, 'claim');
        claims++;
      }
    }),
  );
  const perSecond = claims / ((performance.now() - started) / 1000);
  await new Promise((resolve) => server.close(resolve));
  orphans += await bench.stop();
  return perSecond;
}

let orphans = 0;
const loadBefore = loadavg();
say('starting the daemons...');
const baseline = await baselineSide();
const warm = await claimSide('warm');
const cold = await claimSide('cold');
const hit = await hitSide('run');
const hitPaused = await hitSide('pause');
const benches = [warm.bench, cold.bench, hit.bench, hitPaused.bench];
/** Every daemon quiet, so no side is measured while another's refill or destroy is still running. */
const allQuiet = () =>
  Promise.all([
    quiet(warm.bench, { ready: 1 }),
    quiet(cold.bench, {}),
    quiet(hit.bench, { claimed: 1 }),
    quiet(hitPaused.bench, { claimed: 1 }),
  ]);
const sampleOf: Record<SideName, (round: number) => Promise<Ready>> = {
  'docker run (baseline)': baseline,
  warm: warm.sample,
  cold: cold.sample,
  hit: hit.sample,
  'hit (reserve: pause)': hitPaused.sample,
};
say(`${WARM_UP_ROUNDS} rounds to warm up, then ${samples} rounds of every side, interleaved...`);
const startedAt = new Date();
const loads: number[] = [];
for (let round = -WARM_UP_ROUNDS; round < samples; round++) {
  for (let step = 0; step < SIDES.length; step++) {
    const side = SIDES[(Math.abs(round) + step) % SIDES.length] as SideName;
    await allQuiet();
    const result = await sampleOf[side](round + WARM_UP_ROUNDS);
    if (round >= 0) ready[side].push(result);
  }
  // What the warm-up rounds recorded is not counted.
  if (round < 0) for (const name of Object.keys(parts)) parts[name] = [];
  loads.push(loadavg()[0] as number);
  if (round >= 0 && (round + 1) % 20 === 0)
    say(`  ${round + 1}/${samples}, load average ${loadavg()[0]?.toFixed(1)}`);
}
const memoryRun = await reservedMemory(hit.bench);
const memoryPause = await reservedMemory(hitPaused.bench);
for (const bench of benches) orphans += await bench.stop();
say('throughput...');
const claimsPerSecond = await throughput();
const leftOver = [
  ...(await runtime.list({ 'boilerhouse.bench': 'baseline' })),
  ...(await Promise.all(daemonIds.map((id) => runtime.list({ [LABEL.daemon]: id })))).flat(),
];
await rm(root, { recursive: true, force: true });
runtime.close();

const byAnswer: Record<string, Distribution> = {};
const byExec: Record<string, Distribution> = {};
const execAlone: number[] = [];
for (const side of SIDES) {
  byAnswer[side] = distribution(ready[side].map((each) => each.answer));
  byExec[side] = distribution(ready[side].map((each) => each.exec));
  execAlone.push(...ready[side].map((each) => each.exec - each.answer));
}
parts['health test by docker exec alone (every side)'] = execAlone;
const PARTS_ORDER = [
  'docker run: create + start + inspect',
  'health test by docker exec alone (every side)',
  "warm: claim call (port probe, health test by the gate's agent)",
  '  warm: gate to port open (app boot)',
  "  warm: health test (gate's agent)",
  "cold: claim call (port probe, health test by the gate's agent)",
  '  cold: create (network, container, start)',
  '  cold: gate to port open (app boot)',
  "  cold: health test (gate's agent)",
  'release (reserve: run)',
  'release (reserve: pause)',
];
const inside: Record<string, Distribution> = Object.fromEntries(
  PARTS_ORDER.map((name) => [name, distribution(parts[name] ?? [])]),
);
const answerBase = byAnswer['docker run (baseline)']?.p50 ?? Number.NaN;
const execBase = byExec['docker run (baseline)']?.p50 ?? Number.NaN;
const machine = {
  startedAt: startedAt.toISOString(),
  loadAverageBefore: loadBefore[0],
  loadAverageDuringRounds: distribution(loads),
};
const report = {
  samples,
  machine,
  untilFirstAnswerMs: byAnswer,
  untilHealthByExecMs: byExec,
  otherMs: inside,
  ratioToBaselineP50: {
    untilFirstAnswer: Object.fromEntries(
      SIDES.map((side) => [side, (byAnswer[side]?.p50 ?? 0) / answerBase]),
    ),
    untilHealthByExec: Object.fromEntries(SIDES.map((side) => [side, (byExec[side]?.p50 ?? 0) / execBase])),
  },
  reservedMemoryBytes: { run: memoryRun, pause: memoryPause },
  claimsPerSecond8Clients: claimsPerSecond,
  orphanContainers: orphans,
  leakedContainers: leftOver.length,
};
if (flags.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `from the call to the first 200 answer to GET ${HEALTH_PATH} through the published port, from the host:`,
  );
  console.log(formatTable(byAnswer, answerBase));
  console.log('\nfrom the call to that answer and then the health test passing by docker exec:');
  console.log(formatTable(byExec, execBase));
  console.log("\nparts, from the same rounds (p50 / baseline: of the first table's baseline):");
  console.log(formatTable(inside, answerBase));
  console.log(
    `\nidle memory of a reserved instance: ${(memoryRun / 2 ** 20).toFixed(1)} MiB running, ${(memoryPause / 2 ** 20).toFixed(1)} MiB paused`,
  );
  console.log(
    `claims/s with 8 concurrent HTTP clients (release + hit claim each): ${claimsPerSecond.toFixed(0)}`,
  );
  const load = machine.loadAverageDuringRounds;
  console.log(
    `started ${machine.startedAt}; load average (1 min) ${loadBefore[0]?.toFixed(1)} before, ${load.min.toFixed(1)}-${load.max.toFixed(1)} (p50 ${load.p50.toFixed(1)}) during the rounds`,
  );
  console.log(`orphan containers (no instance row) seen at each daemon's stop: ${orphans}`);
  console.log(`containers left on the engine at the end: ${leftOver.length}`);
}
