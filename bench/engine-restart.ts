/**
 * How long tenants are without their assistant when the Docker engine restarts under the daemon (every
 * container stops, as on an engine upgrade or a crash of dockerd): N echo tenants claimed, each with a
 * write the daemon never saved; the engine restarted; then the time from the engine answering again until
 * every tenant is claimed again and answering with its write, and each tenant's own time. The baseline, in
 * the same run: N cold claims of new tenants on the restarted engine, one after another as the daemon
 * brings them back (four at a time). Stops every container on the machine: run it on a machine of its own.
 *
 *   npm run bench:engine-restart -- [--tenants 50] [--json]
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../packages/boilerhouse/src/config.ts';
import { type Daemon, startDaemon } from '../packages/boilerhouse/src/daemon.ts';
import { silentLogger } from '../packages/boilerhouse/src/log.ts';
import { DockerRuntime } from '../packages/boilerhouse/src/runtime/docker.ts';
import { restartEngine } from '../packages/boilerhouse/src/testing/engine-restart.ts';
import { counter, echoWorkload } from '../packages/boilerhouse/src/testing/harness.ts';
import { tearDownDaemon } from '../packages/boilerhouse/src/testing/leftovers.ts';
import { distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { tenants: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } },
});
const tenants = Array.from({ length: Number(flags.tenants) }, (_, i) => `tenant-${i}`);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

const root = await mkdtemp(join(tmpdir(), 'boilerhouse-bench-engine-restart-'));
const dataDir = join(root, 'data');
const workloadsDir = join(root, 'workloads');
const runtime = new DockerRuntime();
let daemon: Daemon | undefined;
try {
  await mkdir(workloadsDir, { recursive: true });
  await writeFile(
    join(workloadsDir, 'echo.yaml'),
    await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      'max_size: 10': `max_size: ${2 * tenants.length + 4}`,
      'interval: 30s': 'interval: 1h',
    }),
  );
  daemon = await startDaemon(
    { ...configFromEnv({}), dataDir, workloadsDir, host: '127.0.0.1', port: 0 },
    silentLogger,
    {},
  );
  const bh = daemon.boilerhouse;
  say(`claiming ${tenants.length} tenants, one unsaved write each`);
  for (const tenant of tenants) {
    const claim = await bh.claim(tenant, 'echo');
    await counter(claim.endpoints[0]?.url as string);
    await counter(claim.endpoints[0]?.url as string);
  }
  const before = new Map(tenants.map((tenant) => [tenant, bh.tenant(tenant).instances[0]?.id]));

  say('restarting the engine');
  const engine = await restartEngine();
  const backAfter = new Map<string, number>();
  const lost: string[] = [];
  while (backAfter.size < tenants.length) {
    for (const tenant of tenants) {
      if (backAfter.has(tenant)) continue;
      const instance = bh
        .tenant(tenant)
        .instances.find((i) => i.phase === 'claimed' && i.id !== before.get(tenant));
      const url =
        instance?.ports[0] === undefined ? undefined : `http://127.0.0.1:${instance.ports[0].hostPort}`;
      if (url === undefined) continue;
      const value = await counter(url).catch(() => undefined);
      if (value === undefined) continue;
      if (value !== 3) lost.push(`${tenant}: counter ${value}, expected 3`);
      backAfter.set(tenant, performance.now() - engine.upAt);
    }
    if (performance.now() - engine.upAt > 600_000) throw new Error('tenants not back within 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const allBackMs = Math.max(...backAfter.values());

  say(`baseline: ${tenants.length} cold claims of new tenants, four at a time`);
  const baselineStart = performance.now();
  const cold: number[] = [];
  for (let i = 0; i < tenants.length; i += 4) {
    await Promise.all(
      tenants.slice(i, i + 4).map(async (tenant) => {
        const claim = await bh.claim(`new-${tenant}`, 'echo');
        cold.push(claim.timingsMs.total);
      }),
    );
  }
  const baselineMs = performance.now() - baselineStart;

  const rows = {
    'cold claim of a new tenant (baseline)': distribution(cold),
    'tenant back after the engine answered': distribution([...backAfter.values()]),
  };
  const summary = {
    tenants: tenants.length,
    engineDownMs: Math.round(engine.downMs),
    allBackMs: Math.round(allBackMs),
    baselineAllColdMs: Math.round(baselineMs),
    allBackOverBaseline: allBackMs / baselineMs,
    writesLost: lost,
  };
  if (flags.json) process.stdout.write(`${JSON.stringify({ rows, summary })}\n`);
  else {
    process.stdout.write(`${formatTable(rows, rows['cold claim of a new tenant (baseline)'].p50)}\n`);
    process.stdout.write(
      `engine down ${summary.engineDownMs} ms; all ${tenants.length} tenants back ${summary.allBackMs} ms after it answered (${tenants.length} cold claims, four at a time: ${summary.baselineAllColdMs} ms, ratio ${summary.allBackOverBaseline.toFixed(2)}); acknowledged writes lost: ${lost.length === 0 ? 'none' : lost.join('; ')}\n`,
    );
  }
  if (lost.length > 0) process.exitCode = 1;
} finally {
  await tearDownDaemon({ daemon, runtime, root, dataDir });
}
