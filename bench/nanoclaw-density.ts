/**
 * NanoClaw on Boilerhouse: host memory per claimed tenant, from the host's MemAvailable (what the kernel
 * could still hand out: every process, container shim, page table and network namespace counts), at each
 * stage of a conversation, for N tenants claimed side by side:
 *
 *   armed    just claimed: the host, and the main agent armed at the claim (its SDK up, waiting)
 *   active   each tenant sent one message and got its reply: the conversation's agent still there
 *   reserved each tenant released: reserved running, its agent kept for its return (docker.on_release keep)
 *   idle     IDLE_TIMEOUT later: the agents have ended, each tenant is its host process alone
 *
 * Each figure is (MemAvailable before any instance - MemAvailable then) / N, from the median of several
 * readings; tenants per GiB follow from it. The anonymous memory of the containers (their cgroups' rss),
 * per tenant, is printed beside it as a cross-check that does not move with other work on the machine.
 * No ready instance is kept (min_idle 0), so only claimed tenants count. The tenants are returning ones:
 * each had one conversation first (so its main group exists and is armed at its claim), then was released
 * and its instance destroyed, saved; the figures are for their claims after that, each restoring its state.
 *
 *   npm run bench:nanoclaw-density -- [--tenants 20] [--idle-timeout-ms 180000] [--json]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { ClaimResult } from '../packages/boilerhouse/src/pool/claims.ts';
import { LABEL } from '../packages/boilerhouse/src/pool/container-spec.ts';
import { CHILD_LABEL } from '../packages/boilerhouse/src/proxy/children.ts';
import { startS3Server } from '../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { startHarness } from '../packages/boilerhouse/src/testing/harness.ts';
import { ChatClient } from '../packages/nanoclaw/src/testing/e2e-host.ts';
import { startModelServer } from '../packages/nanoclaw-agent/src/testing/model-server.ts';
import { containersLabelled, removeContainers } from '../test/e2e/testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from '../test/e2e/testing/nanoclaw-workload.ts';

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string', default: '20' },
    'idle-timeout-ms': { type: 'string', default: '180000' },
    json: { type: 'boolean', default: false },
  },
});
const tenants = Number(flags.tenants);
const idleTimeoutMs = Number(flags['idle-timeout-ms']);
if (!Number.isInteger(tenants) || tenants < 1)
  throw new Error(`--tenants: a positive integer, got ${flags.tenants}`);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};
const MIB = 1024 * 1024;
const WEB_TOKEN = 'bench-web-token-for-the-chat';

function memAvailable(): number {
  const line = readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB$/m);
  return Number(line?.[1] ?? Number.NaN) * 1024;
}

/** The median of readings a quarter second apart, and their range: the machine is shared. */
async function settledMemAvailable(): Promise<{ median: number; spread: number }> {
  const readings: number[] = [];
  for (let i = 0; i < 9; i++) {
    readings.push(memAvailable());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  readings.sort((a, b) => a - b);
  return { median: readings[4] as number, spread: (readings.at(-1) as number) - (readings[0] as number) };
}

/** Anonymous memory of a container, from its memory cgroup (v1 or v2); undefined when not found. */
function containerAnon(id: string): number | undefined {
  for (const [path, key] of [
    [`/sys/fs/cgroup/memory/docker/${id}/memory.stat`, 'total_rss'],
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.stat`, 'anon'],
  ] as const) {
    try {
      const match = readFileSync(path, 'utf8').match(new RegExp(`^${key} (\\d+)$`, 'm'));
      if (match !== null) return Number(match[1]);
    } catch {
      // not this cgroup layout
    }
  }
  return undefined;
}

/** Polls `check` every half second (it asks the docker CLI): true within `timeoutMs`, or throws. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const model = await startModelServer(() => [{ type: 'text', text: 'pong' }]);
const s3 = await startS3Server('nanoclaw-density-bench');
const harness = await startHarness(
  {
    'nanoclaw.yaml': await nanoclawWorkload({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      minIdle: 0,
      maxSize: tenants,
      fileIdleTtlMs: 3_600_000,
      affinityTimeoutMs: 3_600_000,
      intervalSaveMs: 3_600_000,
      environment: { IDLE_TIMEOUT: String(idleTimeoutMs) },
    }),
  },
  { env: S3_ENV, hostPorts: [Number(new URL(model.url).port)] },
);
const bh = harness.boilerhouse;
const daemonId = bh.daemonId;

async function stage(name: string, base: number) {
  const { median, spread } = await settledMemAvailable();
  const hosts = await containersLabelled({ [LABEL.daemon]: daemonId });
  const children = await containersLabelled({ [CHILD_LABEL.daemon]: daemonId });
  const anon = [...hosts, ...children].map(containerAnon);
  const anonKnown = anon.every((bytes) => bytes !== undefined);
  const perTenant = (base - median) / tenants / MIB;
  const row = {
    stage: name,
    containers: hosts.length + children.length,
    mibPerTenant: Number(perTenant.toFixed(1)),
    tenantsPerGiB: Number((1024 / perTenant).toFixed(1)),
    readingsSpreadMiB: Number((spread / MIB).toFixed(1)),
    anonMibPerTenant: anonKnown
      ? Number((anon.reduce((sum: number, bytes) => sum + (bytes ?? 0), 0) / tenants / MIB).toFixed(1))
      : null,
  };
  say(`${name}: ${JSON.stringify(row)}`);
  return row;
}

const names = Array.from({ length: tenants }, (_, index) => `density-${index}`);
const rows: Awaited<ReturnType<typeof stage>>[] = [];
try {
  for (const tenant of names) {
    bh.putSecrets(tenant, 'nanoclaw', {
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: 'bench-key',
      NANOCLAW_WEB_TOKEN: WEB_TOKEN,
    });
  }
  const agents = () => containersLabelled({ [CHILD_LABEL.daemon]: daemonId });
  const chatOf = (claim: ClaimResult) =>
    new ChatClient(
      () => claim.endpoints.find((endpoint) => endpoint.port === 3847)?.url as string,
      WEB_TOKEN,
    );
  // Each tenant's first conversation, saved as its instance is destroyed.
  for (const tenant of names) {
    const claim = await bh.claim(tenant, 'nanoclaw');
    await chatOf(claim).post('main', 'ping');
    await chatOf(claim).reply('main', (text) => text === 'pong', 120_000);
    await bh.release(tenant, 'nanoclaw');
    await bh.destroy(claim.instance.id);
  }
  await until(async () => (await agents()).length === 0, 120_000, 'the first conversations to end');
  say(`${tenants} tenants had their first conversation`);
  const base = (await settledMemAvailable()).median;
  const claims: ClaimResult[] = [];
  for (const tenant of names) claims.push(await bh.claim(tenant, 'nanoclaw'));
  // Every tenant's agent armed at its claim, and settled.
  await until(async () => (await agents()).length >= tenants, 300_000, 'every armed agent');
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  rows.push(await stage('armed', base));

  for (const claim of claims) {
    const chat = chatOf(claim);
    const before = (await chat.replies('main')).length;
    await chat.post('main', 'ping');
    await until(async () => (await chat.replies('main')).length > before, 120_000, 'the reply');
  }
  rows.push(await stage('active', base));

  for (const tenant of names) await bh.release(tenant, 'nanoclaw');
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  rows.push(await stage('reserved', base));

  await until(async () => (await agents()).length === 0, idleTimeoutMs + 300_000, 'the agents to end');
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  rows.push(await stage('idle', base));

  if (flags.json) console.log(JSON.stringify({ tenants, idleTimeoutMs, rows }, null, 2));
  else {
    console.log(`${tenants} claimed NanoClaw tenants, IDLE_TIMEOUT ${idleTimeoutMs} ms`);
    console.log('stage    containers  MiB/tenant  tenants/GiB  anon MiB/tenant  MemAvailable spread MiB');
    for (const row of rows)
      console.log(
        `${row.stage.padEnd(8)} ${String(row.containers).padStart(10)}  ${row.mibPerTenant.toFixed(1).padStart(10)}  ${row.tenantsPerGiB.toFixed(1).padStart(11)}  ${String(row.anonMibPerTenant ?? 'n/a').padStart(15)}  ${row.readingsSpreadMiB.toFixed(1).padStart(23)}`,
      );
    console.log(
      `load average at the end: ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}`,
    );
  }
} finally {
  for (const instance of bh.instances()) await bh.destroy(instance.id).catch(() => undefined);
  await harness.cleanup();
  await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  await s3.stop();
  await model.close();
}
