/**
 * NanoClaw on Boilerhouse: time from claim to first reply, per claim path, for a tenant with 20 MB of
 * state (a 20 MiB file in its group folder plus rows in its database), saved to an S3 sink on a loopback
 * s3rver. Each sample: claim, post a chat message at once, wait for the reply in the web chat API (polled
 * every 10 ms). The scripted model answers at once, so the figures are Boilerhouse + NanoClaw + the agent
 * container, not the model.
 *
 *   hit    the tenant's reserved instance (same process, nothing restored, and the agent container of its
 *          last conversation kept through the reservation: the workload's docker.on_release keep)
 *   warm   a ready instance of the pool, the 20 MB restored into it before NanoClaw starts
 *   cold   no ready instance: a container created and started, then the same restore
 *   baseline (same run): a message answered by an instance already claimed, no claim at all
 *
 * A warm claim is also split into its steps (the claim's own timings): the restore (and the tenant's
 * secrets), the start message, the workload's port answering and its health test passing; and the agent
 * run that answered its first message, from that run's log: how long its container had been up when the
 * host handed it its input (started ahead of the claim, or by it), when that was after the claim began,
 * and the SDK's own start-up (its CLI up and initialised on the session).
 *
 * Each warm claim takes a ready instance once it has settled (the agent container it starts ahead of its
 * claim running for 3 s), as one that waited in the pool would have.
 *
 * The tenant's state is in s3rver on loopback (the workload's S3 sink), or with `--sink local` in the data
 * directory's local sink (the demo's), which shows what a restore costs without an object store's own.
 * With S3, the chunks, packs and manifest the tenant's save put in the bucket are also in this host's cache
 * of them (BOILERHOUSE_STATE_CACHE_MIB), so a restore reads HEAD from s3rver and the rest from disk;
 * `--state-cache off` reads everything from s3rver.
 *
 *   npm run bench:nanoclaw-claims -- [--samples 10] [--sink s3|local] [--state-cache on|off] [--json]
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import type { Boilerhouse } from '../packages/boilerhouse/src/boilerhouse.ts';
import type { ClaimResult } from '../packages/boilerhouse/src/pool/claims.ts';
import { CHILD_LABEL } from '../packages/boilerhouse/src/proxy/children.ts';
import { startS3Server } from '../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { startHarness, waitFor } from '../packages/boilerhouse/src/testing/harness.ts';
import { ChatClient } from '../packages/nanoclaw/src/testing/e2e-host.ts';
import { startModelServer } from '../packages/nanoclaw-agent/src/testing/model-server.ts';
import { containersLabelled, inspect, removeContainers } from '../test/e2e/testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from '../test/e2e/testing/nanoclaw-workload.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    samples: { type: 'string', default: '10' },
    sink: { type: 'string', default: 's3' },
    'state-cache': { type: 'string', default: 'on' },
    json: { type: 'boolean', default: false },
  },
});
if (flags.sink !== 's3' && flags.sink !== 'local')
  throw new Error(`--sink must be s3 or local, got ${flags.sink}`);
if (flags['state-cache'] !== 'on' && flags['state-cache'] !== 'off')
  throw new Error(`--state-cache must be on or off, got ${flags['state-cache']}`);
const samples = Number(flags.samples);
if (!Number.isInteger(samples) || samples < 1)
  throw new Error(`--samples must be a positive integer, got ${flags.samples}`);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};
const TENANT = 'bench-tenant';
/** The hosted chat is closed without a token (workloads/nanoclaw.yaml). */
const WEB_TOKEN = 'bench-web-token-for-the-chat';
const STATE_FILE_BYTES = 20 * 1024 * 1024;
const DB_ROWS = 5_000;
/** How long a warm claim's instance has had its agent container running: a few seconds in the pool. */
const SETTLED_MS = 3_000;

const model = await startModelServer(() => [{ type: 'text', text: 'pong' }]);
const s3 = await startS3Server('nanoclaw-claims-bench');
const workload = parseDocument(
  await nanoclawWorkload({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    minIdle: 1,
    maxSize: 3,
    // No idle release or interval save in the middle of a sample.
    fileIdleTtlMs: 3_600_000,
    affinityTimeoutMs: 3_600_000,
    intervalSaveMs: 3_600_000,
  }),
);
if (flags.sink === 'local')
  workload.setIn(['sync', 'sink'], workload.createNode({ type: 'local', path: 'sinks/bench' }));
const harness = await startHarness(
  { 'nanoclaw.yaml': workload.toString() },
  // The scripted model server runs on this host, which instances reach only through a named port.
  {
    env: S3_ENV,
    hostPorts: [Number(new URL(model.url).port)],
    ...(flags['state-cache'] === 'off' ? { stateCacheBytes: 0 } : {}),
  },
);
const bh: Boilerhouse = harness.boilerhouse;
const stateDir = (instanceId: string) => join(harness.dataDir, 'instances', instanceId, 'volumes', 'state');
const chatOf = (claim: ClaimResult) =>
  new ChatClient(() => claim.endpoints.find((endpoint) => endpoint.port === 3847)?.url as string, WEB_TOKEN);

/** Posts a message and resolves when a reply newer than it is stored: the ms in between. */
async function messageToReply(chat: ChatClient, began = performance.now()): Promise<number> {
  const before = (await chat.replies('main')).length;
  await chat.post('main', `ping ${randomBytes(4).toString('hex')}`);
  for (;;) {
    if ((await chat.replies('main')).length > before) return performance.now() - began;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function claimToReply(): Promise<{ claim: ClaimResult; ms: number; claimMs: number; at: number }> {
  const at = Date.now();
  const began = performance.now();
  const claim = await bh.claim(TENANT, 'nanoclaw');
  const claimMs = performance.now() - began;
  return { claim, claimMs, at, ms: await messageToReply(chatOf(claim), began) };
}

/** How long the instance's restore of the tenant's state took, by its event (the claim's step adds secrets). */
function restoredMs(instanceId: string): number {
  const event = bh
    .events(50)
    .find((candidate) => candidate.type === 'state.restored' && candidate.instance === instanceId);
  return typeof event?.data?.durationMs === 'number' ? event.data.durationMs : Number.NaN;
}

/** From the newest agent run log of the instance's main group: what its header and the agent said. */
async function agentRun(instanceId: string, claimedAt: number) {
  const dir = join(stateDir(instanceId), 'groups', 'main', 'logs');
  const newest = (await readdir(dir))
    .filter((name) => name.startsWith('container-'))
    .sort()
    .at(-1);
  const text = newest === undefined ? '' : await readFile(join(dir, newest), 'utf8');
  const number = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  const started = /\] run \S+ started (\S+)/.exec(text)?.[1];
  return {
    upBeforeInput: number(/container up (\d+) ms before its input/),
    inputAfterClaim: started === undefined ? Number.NaN : Date.parse(started) - claimedAt,
    sdkStart: number(/SDK up in (\d+) ms/),
  };
}

/**
 * Waits for a ready instance that has settled as one that waited in the pool would have: the agent
 * container it starts ahead of its claim running for SETTLED_MS (waiting at most 30 s for it). A pool's
 * instances wait minutes between claims; claiming one the moment it turns ready would measure a boot.
 */
async function settledReadyInstance(): Promise<void> {
  await waitFor(() => bh.pool('nanoclaw').instances.ready > 0, 120_000, 'a warm instance');
  const ready = bh.instances().find((instance) => instance.phase === 'ready');
  if (ready === undefined) throw new Error('the ready instance was claimed by someone else');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const [child] = await containersLabelled({ [CHILD_LABEL.parent]: ready.id });
    const state = child === undefined ? undefined : (await inspect(child)).State;
    // Running is not booted: the agent's Node loads its modules for ~1-2 s after the engine says so.
    if (state?.Running && Date.now() - Date.parse(state.StartedAt) >= SETTLED_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Releases the tenant and, unless it is to stay reserved, destroys the reservation (saved first). */
async function releaseTenant(keepReservation: boolean): Promise<void> {
  const result = await bh.release(TENANT, 'nanoclaw');
  if (!keepReservation && result.instance !== null) await bh.destroy(result.instance.id);
}

try {
  bh.putSecrets(TENANT, 'nanoclaw', {
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'bench-key',
    NANOCLAW_WEB_TOKEN: WEB_TOKEN,
  });
  await waitFor(() => bh.pool('nanoclaw').instances.ready > 0, 120_000, 'a warm instance');
  // The tenant's 20 MB: a file in the group folder and rows in NanoClaw's own database.
  const first = await bh.claim(TENANT, 'nanoclaw');
  await messageToReply(chatOf(first));
  const dir = stateDir(first.instance.id);
  const big = join(dir, 'groups', 'main', 'archive.bin');
  await mkdir(join(dir, 'groups', 'main'), { recursive: true });
  await writeFile(big, randomBytes(STATE_FILE_BYTES));
  await chown(big, 1000, 1000);
  const db = new DatabaseSync(join(dir, 'store', 'messages.db'));
  db.exec('BEGIN');
  const insert = db.prepare(
    'INSERT INTO messages (id, chat_jid, sender, sender_name, text, timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  for (let row = 0; row < DB_ROWS; row++)
    insert.run(`archive-${row}`, 'web:archive', 'bench', 'Bench', randomBytes(150).toString('hex'), row, row);
  db.exec('COMMIT');
  db.close();
  await releaseTenant(false);
  const saved = (await bh.snapshots(TENANT, 'nanoclaw')).saves[0];
  say(`tenant state saved: ${saved?.files} files, ${((saved?.bytes ?? 0) / 1024 / 1024).toFixed(1)} MiB`);

  const rows: Record<string, number[]> = {
    'message -> reply, claimed (baseline)': [],
    'hit: claim -> first reply': [],
    'warm: claim -> first reply': [],
    'cold: claim -> first reply': [],
    '  hit: claim': [],
    '  warm: claim (restore included)': [],
    '  cold: claim (restore included)': [],
    '    warm: restore': [],
    '      warm: the state alone': [],
    '    warm: start message': [],
    '    warm: port answers': [],
    '    warm: health test': [],
    '  warm: agent container up before its input': [],
    '  warm: claim began -> agent given its input': [],
    '  warm: agent SDK start-up': [],
  };
  const paths: Record<string, number> = {};
  for (let round = 0; round < samples; round++) {
    // warm: the pool's ready instance, state restored.
    await settledReadyInstance();
    const warm = await claimToReply();
    paths[`warm:${warm.claim.path}`] = (paths[`warm:${warm.claim.path}`] ?? 0) + 1;
    rows['warm: claim -> first reply']?.push(warm.ms);
    rows['  warm: claim (restore included)']?.push(warm.claimMs);
    const steps = warm.claim.timingsMs;
    rows['    warm: restore']?.push(steps.restore ?? Number.NaN);
    rows['      warm: the state alone']?.push(restoredMs(warm.claim.instance.id));
    rows['    warm: start message']?.push(steps.gate ?? Number.NaN);
    rows['    warm: port answers']?.push(steps.port ?? Number.NaN);
    rows['    warm: health test']?.push(steps.health ?? Number.NaN);
    const run = await agentRun(warm.claim.instance.id, warm.at);
    rows['  warm: agent container up before its input']?.push(run.upBeforeInput);
    rows['  warm: claim began -> agent given its input']?.push(run.inputAfterClaim);
    rows['  warm: agent SDK start-up']?.push(run.sdkStart);
    rows['message -> reply, claimed (baseline)']?.push(await messageToReply(chatOf(warm.claim)));
    // hit: the same instance, reserved and claimed back.
    await releaseTenant(true);
    const hit = await claimToReply();
    paths[`hit:${hit.claim.path}`] = (paths[`hit:${hit.claim.path}`] ?? 0) + 1;
    rows['hit: claim -> first reply']?.push(hit.ms);
    rows['  hit: claim']?.push(hit.claimMs);
    // cold: no ready instance anywhere.
    await releaseTenant(false);
    await bh.drain('nanoclaw');
    const cold = await claimToReply();
    bh.scale('nanoclaw', { minIdle: null });
    paths[`cold:${cold.claim.path}`] = (paths[`cold:${cold.claim.path}`] ?? 0) + 1;
    rows['cold: claim -> first reply']?.push(cold.ms);
    rows['  cold: claim (restore included)']?.push(cold.claimMs);
    await releaseTenant(false);
    say(
      `round ${round + 1}/${samples}: hit ${hit.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms, cold ${cold.ms.toFixed(0)} ms`,
    );
  }
  const mismatched = Object.keys(paths).filter((key) => key.split(':')[0] !== key.split(':')[1]);
  if (mismatched.length > 0)
    throw new Error(`claims took other paths than intended: ${JSON.stringify(paths)}`);
  const results: Record<string, Distribution> = Object.fromEntries(
    Object.entries(rows).map(([name, values]) => [name, distribution(values)]),
  );
  if (flags.json) {
    console.log(JSON.stringify({ samples, stateBytes: saved?.bytes, results }, null, 2));
  } else {
    console.log(
      formatTable(results, results['message -> reply, claimed (baseline)']?.p50 ?? Number.NaN, [
        'p50',
        'p90',
        'max',
      ]),
    );
    const cache = bh.objectCache?.stats();
    if (flags.sink === 's3')
      console.log(
        cache === undefined
          ? "this host's cache of the bucket's objects: off"
          : `this host's cache of the bucket's objects: ${cache.hits} read from it (${(cache.hitBytes / 1024 / 1024).toFixed(0)} MiB), ${cache.misses} from the bucket`,
      );
    console.log(
      `load average at the end: ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}`,
    );
  }
} finally {
  for (const instance of bh.instances()) await bh.destroy(instance.id).catch(() => undefined);
  const daemonId = bh.daemonId;
  await harness.cleanup();
  await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  await s3.stop();
  await model.close();
}
