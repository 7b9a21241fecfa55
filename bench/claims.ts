/**
 * Claim latency per path (hit, hit with reserve: pause, warm, cold) next to a `docker run` baseline
 * measured in the same run: the same locked-down container created and started through the Engine API,
 * then the same readiness check (port probe, then the workload's health test). Also release latency,
 * idle memory of a reserved instance, and claims/s with 8 concurrent HTTP clients.
 *
 *   npm run bench -- [--samples 200] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadWorkload, type WorkloadSpec, workloadEnvironment } from '@boilerhouse/spec';
import { serve } from '@hono/node-server';
import { createApp } from '../packages/boilerhouse/src/api/app.ts';
import { Auth } from '../packages/boilerhouse/src/api/auth.ts';
import { Boilerhouse } from '../packages/boilerhouse/src/boilerhouse.ts';
import { configFromEnv } from '../packages/boilerhouse/src/config.ts';
import { type Database, openDatabase } from '../packages/boilerhouse/src/db/database.ts';
import { createToken, hashSecret } from '../packages/boilerhouse/src/db/tokens.ts';
import { silentLogger } from '../packages/boilerhouse/src/log.ts';
import { LABEL } from '../packages/boilerhouse/src/pool/container-spec.ts';
import { InstanceFiles } from '../packages/boilerhouse/src/pool/instance-files.ts';
import { waitUntilReady } from '../packages/boilerhouse/src/pool/readiness.ts';
import { DockerRuntime } from '../packages/boilerhouse/src/runtime/docker.ts';
import { echoWorkload } from '../packages/boilerhouse/src/testing/harness.ts';
import { removeDaemonLeftovers } from '../packages/boilerhouse/src/testing/leftovers.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { samples: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } },
});
const samples = Number(flags.samples);
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

async function waitForReady(boilerhouse: Boilerhouse): Promise<void> {
  while (boilerhouse.pool('echo').instances.ready < 1) await new Promise((resolve) => setTimeout(resolve, 5));
}

let orphans = 0;
const results: Record<string, Distribution> = {};

/** `docker run` + readiness: the same container, without a gate, through the Engine API. */
async function baseline(spec: WorkloadSpec): Promise<void> {
  const image = await runtime.inspectImage(spec.image);
  if (image === undefined) throw new Error(`${spec.image} is missing: run scripts/setup.sh`);
  const files = new InstanceFiles(
    join(root, 'baseline'),
    configFromEnv({}).gateBinary,
    join(root, 'workloads'),
  );
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = `baseline-${i}`;
    const mounts = (await files.prepare(id, spec)).slice(2);
    const started = performance.now();
    const containerId = await runtime.create({
      name: `boilerhouse-bench-${process.pid}-${i}`,
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
    await runtime.start(containerId);
    const info = await runtime.inspect(containerId);
    await waitUntilReady(
      runtime,
      { containerId, address: info?.ipAddress ?? null, ports: spec.expose },
      spec.healthcheck,
    );
    times.push(performance.now() - started);
    await runtime.remove(containerId);
    await files.remove(id);
  }
  results['docker run + ready (baseline)'] = distribution(times);
}

async function warmAndCold(): Promise<void> {
  const warm = await boilerhouseWith('warm', {
    'min_idle: 2': 'min_idle: 1',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
  });
  const warmTimes: number[] = [];
  const portTimes: number[] = [];
  const healthTimes: number[] = [];
  for (let i = 0; i < samples; i++) {
    await waitForReady(warm.boilerhouse);
    const claim = await warm.boilerhouse.claim(`warm-${i}`, 'echo');
    if (claim.path !== 'warm') throw new Error(`expected a warm claim, got ${claim.path}`);
    warmTimes.push(claim.timingsMs.total);
    portTimes.push(claim.timingsMs.port ?? Number.NaN);
    healthTimes.push(claim.timingsMs.health ?? Number.NaN);
    await warm.boilerhouse.release(`warm-${i}`, 'echo');
  }
  results.warm = distribution(warmTimes);
  results['  warm: gate to port open (app boot)'] = distribution(portTimes);
  results['  warm: health test (gate agent)'] = distribution(healthTimes);
  orphans += await warm.stop();

  const cold = await boilerhouseWith('cold', {
    'min_idle: 2': 'min_idle: 0',
    'affinity_timeout: 10m': 'affinity_timeout: 0',
  });
  const coldTimes: number[] = [];
  for (let i = 0; i < samples; i++) {
    const claim = await cold.boilerhouse.claim(`cold-${i}`, 'echo');
    if (claim.path !== 'cold') throw new Error(`expected a cold claim, got ${claim.path}`);
    coldTimes.push(claim.timingsMs.total);
    await cold.boilerhouse.release(`cold-${i}`, 'echo');
  }
  results.cold = distribution(coldTimes);
  orphans += await cold.stop();
}

/** Affinity hits: release (reserve) and claim the same tenant again; also times the release. */
async function hits(mode: 'run' | 'pause'): Promise<number> {
  const bench = await boilerhouseWith(`hit-${mode}`, {
    'min_idle: 2': 'min_idle: 0',
    'max_size: 10': `max_size: 10\n  reserve: ${mode}`,
  });
  const { boilerhouse } = bench;
  await boilerhouse.claim('regular', 'echo');
  const claimTimes: number[] = [];
  const releaseTimes: number[] = [];
  for (let i = 0; i < samples; i++) {
    const released = await boilerhouse.release('regular', 'echo');
    releaseTimes.push(released.timingsMs.total);
    const claim = await boilerhouse.claim('regular', 'echo');
    if (claim.path !== 'hit') throw new Error(`expected a hit, got ${claim.path}`);
    claimTimes.push(claim.timingsMs.total);
  }
  results[mode === 'run' ? 'hit' : 'hit (reserve: pause)'] = distribution(claimTimes);
  results[`release (reserve: ${mode})`] = distribution(releaseTimes);
  await boilerhouse.release('regular', 'echo');
  const [instance] = boilerhouse.instances();
  const memory = await runtime.memoryUsage(instance?.containerId as string);
  orphans += await bench.stop();
  return memory;
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

const spec = loadWorkload(await echoWorkload(), { file: 'echo.yaml', env: workloadEnvironment({}) })
  .spec as WorkloadSpec;
say(`baseline (${samples} samples)...`);
await baseline(spec);
say('warm and cold...');
await warmAndCold();
say('hits...');
const memoryRun = await hits('run');
const memoryPause = await hits('pause');
say('throughput...');
const claimsPerSecond = await throughput();
const leftOver = [
  ...(await runtime.list({ 'boilerhouse.bench': 'baseline' })),
  ...(await Promise.all(daemonIds.map((id) => runtime.list({ [LABEL.daemon]: id })))).flat(),
];
await rm(root, { recursive: true, force: true });
runtime.close();

const base = results['docker run + ready (baseline)']?.p50 ?? Number.NaN;
const report = {
  samples,
  latencyMs: results,
  ratioToBaselineP50: Object.fromEntries(Object.entries(results).map(([name, d]) => [name, d.p50 / base])),
  reservedMemoryBytes: { run: memoryRun, pause: memoryPause },
  claimsPerSecond8Clients: claimsPerSecond,
  orphanContainers: orphans,
  leakedContainers: leftOver.length,
};
if (flags.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(formatTable(results, base));
  console.log(
    `\nidle memory of a reserved instance: ${(memoryRun / 2 ** 20).toFixed(1)} MiB running, ${(memoryPause / 2 ** 20).toFixed(1)} MiB paused`,
  );
  console.log(
    `claims/s with 8 concurrent HTTP clients (release + hit claim each): ${claimsPerSecond.toFixed(0)}`,
  );
  console.log(`orphan containers (no instance row) seen at each daemon's stop: ${orphans}`);
  console.log(`containers left on the engine at the end: ${leftOver.length}`);
}
