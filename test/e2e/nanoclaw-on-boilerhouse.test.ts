/**
 * NanoClaw hosted on Boilerhouse, end to end (issue 8): the repository's NanoClaw workload on the real
 * Docker engine, tenant state in a real S3-compatible server (s3rver on loopback), agent turns run by the
 * real Agent SDK in agent containers started through each instance's filtered Docker socket, against one
 * scripted model server on Docker's bridge. Chats go through NanoClaw's web channel API. Tests run in
 * order and build on each other (alice's conversation goes through tests 1 to 3).
 */

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ClaimResult, Endpoint } from '../../packages/boilerhouse/src/pool/claims.ts';
import type { Signal } from '../../packages/boilerhouse/src/pool/signals.ts';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { type S3Server, startS3Server } from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { type Harness, startHarness, waitFor } from '../../packages/boilerhouse/src/testing/harness.ts';
import { removeDaemonLeftovers } from '../../packages/boilerhouse/src/testing/leftovers.ts';
import { ChatClient } from '../../packages/nanoclaw/src/testing/e2e-host.ts';
import { userPrompts as promptsOf } from '../../packages/nanoclaw-agent/src/testing/requests.ts';
import { openChatStream } from './testing/chat-stream.ts';
import { daemonDirs, spawnDaemon } from './testing/daemon-process.ts';
import { childrenOf, containersLabelled, inspect, removeContainers } from './testing/engine.ts';
import { askInstanceSocket, runInInstance, type SocketAnswer } from './testing/instance-exec.ts';
import { nanoclawWorkload, S3_ENV } from './testing/nanoclaw-workload.ts';
import { type ScriptedModel, startScriptedModel } from './testing/scripted-model.ts';
import { readDatabase } from './testing/sqlite-file.ts';

const API_KEY = 'e2e-model-key-never-logged';
/** The hosted chat is closed without a token (workloads/nanoclaw.yaml): every tenant gets this one. */
const WEB_TOKEN = 'e2e-web-token-for-each-chat';
let model: ScriptedModel;
let s3: S3Server;
let harness: Harness;
const signals: Signal[] = [];

beforeAll(async () => {
  model = await startScriptedModel();
  s3 = await startS3Server('nanoclaw-e2e');
  const sink = { endpoint: s3.endpoint, bucket: s3.bucket, intervalSaveMs: 2_000 };
  harness = await startHarness(
    {
      // Tests 1-3: idle release and reservations within seconds.
      'nanoclaw.yaml': await nanoclawWorkload({
        ...sink,
        minIdle: 1,
        maxSize: 3,
        fileIdleTtlMs: 6_000,
        affinityTimeoutMs: 8_000,
      }),
      // Tests 4 and 6: tenants that stay claimed while they are probed.
      'nanoclaw-steady.yaml': await nanoclawWorkload({
        ...sink,
        id: 'nanoclaw-steady',
        minIdle: 0,
        maxSize: 2,
        fileIdleTtlMs: 600_000,
        affinityTimeoutMs: 0,
      }),
      // A workload that still wants the reference's `.backup` before each save.
      'nanoclaw-hooked.yaml': await nanoclawWorkload({
        ...sink,
        id: 'nanoclaw-hooked',
        minIdle: 0,
        maxSize: 1,
        fileIdleTtlMs: 600_000,
        affinityTimeoutMs: 60_000,
        hooks: [
          '  pre_release:',
          `    - command: ["node", "-e", ${JSON.stringify(BACKUP_HOOK)}]`,
          '      timeout: 20000',
        ],
      }),
    },
    // The scripted model server runs on this host, which instances reach only through a named port.
    { env: S3_ENV, hostPorts: [modelPort()] },
  );
  harness.boilerhouse.activity.signals.subscribe((signal) => signals.push(signal));
});

afterAll(async () => {
  const daemonId = harness?.boilerhouse.daemonId;
  // Destroying through Boilerhouse removes each instance's agent containers and their pinned mounts too.
  for (const instance of harness?.boilerhouse.instances() ?? [])
    await harness.boilerhouse.destroy(instance.id).catch(() => undefined);
  await harness?.cleanup();
  // Agent containers of instances the cleanup removed without a release.
  if (daemonId !== undefined) {
    await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  }
  await s3?.stop();
  await model?.close();
});

function modelPort(): number {
  return Number(new URL(model.server.url).port);
}

/** SQLite's online backup of NanoClaw's database, next to it in the store (the mapping's `*.db*`). */
const BACKUP_HOOK = [
  "const { DatabaseSync, backup } = require('node:sqlite');",
  "const db = new DatabaseSync('/app/store/messages.db');",
  "backup(db, '/app/store/messages-backup.db').then((pages) => console.log('backed up', pages, 'pages'));",
].join(' ');

function chatOf(claim: ClaimResult): { url: string; chat: ChatClient } {
  const url = claim.endpoints.find((endpoint) => endpoint.port === 3847)?.url;
  if (url === undefined) throw new Error(`claim of ${claim.tenant} has no endpoint for port 3847`);
  return { url, chat: new ChatClient(() => url, WEB_TOKEN) };
}

async function claimWithModel(tenant: string, workload: string): Promise<ClaimResult> {
  harness.boilerhouse.putSecrets(tenant, workload, {
    ANTHROPIC_BASE_URL: model.server.url,
    ANTHROPIC_API_KEY: API_KEY,
    NANOCLAW_WEB_TOKEN: WEB_TOKEN,
  });
  return harness.boilerhouse.claim(tenant, workload);
}

const stateDir = (instanceId: string) => join(harness.dataDir, 'instances', instanceId, 'volumes', 'state');
const events = (type: string, tenant: string) =>
  harness.boilerhouse.events(1000).filter((event) => event.type === type && event.tenant === tenant);
const instanceOf = (tenant: string, workload = 'nanoclaw') =>
  harness.boilerhouse.tenant(tenant).instances.find((instance) => instance.workload === workload);

let aliceInstance = '';

test('1. claim -> web chat message -> reply -> idle TTL -> save -> release into a reservation', async () => {
  const bh = harness.boilerhouse;
  await waitFor(() => bh.pool('nanoclaw').instances.ready > 0, 60_000, 'a warm nanoclaw instance');
  const claim = await claimWithModel('alice', 'nanoclaw');
  expect(claim.path).toBe('warm');
  aliceInstance = claim.instance.id;
  const { chat } = chatOf(claim);
  model.on('first-hello', () => [{ type: 'text', text: 'Hello alice, from the scripted model' }]);
  await chat.post('main', 'first-hello: my name is Alice');
  expect(await chat.reply('main', (text) => text === 'Hello alice, from the scripted model')).toBeDefined();

  // The turn ran in an agent container that NanoClaw started through its filtered socket.
  const children = await childrenOf(aliceInstance);
  expect(children.length).toBeGreaterThan(0);
  const child = await inspect(children[0] as string);
  expect(child.Config.Image).toBe('nanoclaw-agent:latest');
  expect(child.Config.Labels[CHILD_LABEL.daemon]).toBe(bh.daemonId);
  expect(child.HostConfig.Privileged).toBe(false);

  // Saved while active (sync.policy.interval), then released by the idle TTL with a final save.
  await waitFor(
    () => events('state.saved', 'alice').some((event) => event.data?.why === 'interval'),
    30_000,
    'an interval save',
  );
  const startedWhileClaimed = new Set([...children, ...(await childrenOf(aliceInstance))]);
  const reserved = await waitFor(
    () => (instanceOf('alice')?.phase === 'reserved' ? instanceOf('alice') : undefined),
    40_000,
    "alice's idle release",
  );
  expect(reserved.id).toBe(aliceInstance);
  expect(signals.some((signal) => signal.type === 'idle.expired' && signal.workload === 'nanoclaw')).toBe(
    true,
  );
  // The release saves what changed since the interval save; with the conversation's agent kept (nothing
  // of it ended at the release) that may be nothing, and an unchanged save makes no new one. The newest
  // save is the head either way.
  const seqs = events('state.saved', 'alice').map((event) => Number(event.data?.seq));
  const { head, saves } = await bh.snapshots('alice', 'nanoclaw');
  expect(head).toBe(Math.max(...seqs));
  expect(saves[0]?.instance).toBe(aliceInstance);
  // The conversation's agent container stays through the reservation (docker.on_release: keep), for
  // alice's return (test 2); the reserved host process keeps running.
  const kept = (await childrenOf(aliceInstance)).filter((id) => startedWhileClaimed.has(id));
  expect(kept).toHaveLength(1);
  expect((await inspect(kept[0] as string)).State.Running).toBe(true);
  expect((await inspect(reserved.containerId as string)).State.Running).toBe(true);
  // The tenant's model key never reached the activity log.
  expect(JSON.stringify(bh.events(1000))).not.toContain(API_KEY);
}, 120_000);

test('2. affinity: release -> reclaim -> same instance, no restore, the conversation continues', async () => {
  const bh = harness.boilerhouse;
  const first = await claimWithModel('alice', 'nanoclaw');
  expect(first.path).toBe('hit');
  expect(first.instance.id).toBe(aliceInstance);
  const { url, chat } = chatOf(first);
  const startedAt = (await inspect(first.instance.containerId as string)).State.StartedAt;
  // A live connection held across release and reclaim, as a WhatsApp socket would be.
  const stream = await openChatStream(url, 'main', WEB_TOKEN);
  try {
    model.on('second-colour', () => [{ type: 'text', text: 'Noted: blue' }]);
    await chat.post('main', 'second-colour: my colour is blue');
    await chat.reply('main', (text) => text === 'Noted: blue');
    const conversation = await childrenOf(aliceInstance);
    await bh.release('alice', 'nanoclaw');
    expect(instanceOf('alice')?.phase).toBe('reserved');
    const restoresBefore = events('state.restored', 'alice').length;

    const again = await claimWithModel('alice', 'nanoclaw');
    expect(again.path).toBe('hit');
    expect(again.instance.id).toBe(aliceInstance);
    expect(again.timingsMs.restore).toBeUndefined();
    expect(events('state.restored', 'alice')).toHaveLength(restoresBefore);
    // The same process: never restarted, so its in-memory state (channels, queue) is the one from before.
    expect((await inspect(again.instance.containerId as string)).State.StartedAt).toBe(startedAt);

    model.on('third-recall', (request) => {
      const remembered = promptsOf(request).some((prompt) => prompt.includes('my name is Alice'));
      return [{ type: 'text', text: remembered ? 'You are Alice, and you like blue' : 'Who are you?' }];
    });
    await chat.post('main', 'third-recall: who am I?');
    await chat.reply('main', (text) => text === 'You are Alice, and you like blue');
    // Answered in the agent container kept through the reservation: no new one was started.
    expect(await childrenOf(aliceInstance)).toEqual(conversation);
    // The reply came over the connection opened before the release.
    await waitFor(() => stream.texts.includes('You are Alice, and you like blue'), 10_000, 'the stream');
    expect(stream.open()).toBe(true);
    expect(stream.texts).toContain('Noted: blue');
  } finally {
    stream.close();
  }
}, 120_000);

test('3. cold start: release -> reservation expires -> claim -> memory, tasks, sessions and database restored', async () => {
  const bh = harness.boilerhouse;
  const current = instanceOf('alice');
  expect(current?.phase).toBe('claimed');
  const { chat } = chatOf(await claimWithModel('alice', 'nanoclaw'));
  // One turn writes memory (Bash in the agent container) and schedules a one-off task for after the
  // reservation has expired, so only the next instance can run it.
  let fireAt = 0;
  model.on(
    'fourth-plan',
    () => {
      fireAt = Date.now() + 20_000;
      return [
        {
          type: 'tool_use',
          name: 'Bash',
          input: {
            command: 'echo "- Alice likes blue" >> /workspace/group/CLAUDE.md',
            description: 'remember the colour',
          },
        },
        {
          type: 'tool_use',
          name: 'mcp__nanoclaw__schedule_task',
          input: {
            prompt: 'TASK-AFTER-COLD: remind Alice',
            schedule_type: 'once',
            schedule_value: new Date(fireAt).toISOString(),
          },
        },
      ];
    },
    () => [{ type: 'text', text: 'Remembered, and the reminder is scheduled' }],
  );
  model.on('TASK-AFTER-COLD', () => [{ type: 'text', text: 'Reminder for Alice: blue' }]);
  await chat.post('main', 'fourth-plan: remember my colour and remind me later');
  await chat.reply('main', (text) => text === 'Remembered, and the reminder is scheduled');
  const session = (await readJson(join(stateDir(aliceInstance), 'data', 'state.json'))).sessions.main;
  expect(session).toMatch(/^[0-9a-f-]{36}$/);

  await bh.release('alice', 'nanoclaw');
  await waitFor(() => instanceOf('alice') === undefined, 30_000, "alice's reservation to expire");
  expect(Date.now()).toBeLessThan(fireAt);
  // No warm instance either: the tenant's next claim starts a container and restores into it.
  await bh.drain('nanoclaw');
  const claim = await claimWithModel('alice', 'nanoclaw');
  bh.scale('nanoclaw', { minIdle: null });
  expect(claim.path).toBe('cold');
  expect(claim.instance.id).not.toBe(aliceInstance);
  expect(claim.timingsMs.restore).toBeGreaterThan(0);
  const restored = stateDir(claim.instance.id);
  aliceInstance = claim.instance.id;

  // The database came back whole, with the conversation and the task in it.
  const db = readDatabase(join(restored, 'store', 'messages.db'), (database) => ({
    messages: (database.prepare('SELECT text FROM messages').all() as { text: string }[]).map(
      (row) => row.text,
    ),
    tasks: database
      .prepare("SELECT prompt, status FROM scheduled_tasks WHERE prompt LIKE 'TASK-AFTER-COLD%'")
      .all(),
  }));
  expect(db.integrity).toBe('ok');
  expect(db.value.messages).toEqual(
    expect.arrayContaining(['first-hello: my name is Alice', 'Remembered, and the reminder is scheduled']),
  );
  expect(db.value.tasks).toEqual([{ prompt: 'TASK-AFTER-COLD: remind Alice', status: 'active' }]);
  // Memory and the session id too.
  expect(await readFile(join(restored, 'groups', 'main', 'CLAUDE.md'), 'utf8')).toContain(
    '- Alice likes blue',
  );
  expect((await readJson(join(restored, 'data', 'state.json'))).sessions.main).toBe(session);
  const { chat: newChat } = chatOf(claim);
  expect((await newChat.messages('main')).map((message) => message.text)).toContain('Noted: blue');

  // The session files came back: the model sees the whole conversation in the new instance's first turn.
  model.on('fifth-recall', (request) => {
    const remembered = promptsOf(request).some((prompt) => prompt.includes('my colour is blue'));
    return [{ type: 'text', text: remembered ? 'Still blue, Alice' : 'I do not remember' }];
  });
  await newChat.post('main', 'fifth-recall: what is my colour?');
  await newChat.reply('main', (text) => text === 'Still blue, Alice');

  // The task scheduled before the release fires in the new instance, and its run is logged.
  await newChat.reply('main', (text) => text === 'Reminder for Alice: blue', 60_000);
  const runs = await waitFor(
    () => {
      const found = readDatabase(join(restored, 'store', 'messages.db'), (database) =>
        database
          .prepare(
            "SELECT r.status FROM task_run_logs r JOIN scheduled_tasks t ON t.id = r.task_id WHERE t.prompt LIKE 'TASK-AFTER-COLD%'",
          )
          .all(),
      ).value;
      return found.length > 0 && found.every((run) => run.status !== 'running') ? found : undefined;
    },
    20_000,
    'the task run log',
  );
  expect(runs).toEqual([{ status: 'success' }]);
  await bh.release('alice', 'nanoclaw');
}, 120_000);

test("4. two tenants side by side: neither sees the other's files, containers or agent children", async () => {
  const [bob, carol] = [
    await claimWithModel('bob', 'nanoclaw-steady'),
    await claimWithModel('carol', 'nanoclaw-steady'),
  ];
  model.on('bob-secret', () => [{ type: 'text', text: 'Kept, bob' }]);
  model.on('carol-secret', () => [{ type: 'text', text: 'Kept, carol' }]);
  await chatOf(bob).chat.post('main', 'bob-secret: the vault code is 1111');
  await chatOf(carol).chat.post('main', 'carol-secret: the vault code is 2222');
  await chatOf(bob).chat.reply('main', (text) => text === 'Kept, bob');
  await chatOf(carol).chat.reply('main', (text) => text === 'Kept, carol');
  const bobChildren = await childrenOf(bob.instance.id);
  const carolChildren = await childrenOf(carol.instance.id);
  expect(bobChildren.length).toBeGreaterThan(0);
  expect(carolChildren.length).toBeGreaterThan(0);
  const bobContainer = bob.instance.containerId as string;

  // Files: carol's state and instance directories do not exist in bob's mount namespace, and nothing of
  // hers is in his files.
  const seen = await runInInstance<{ exists: Record<string, boolean>; leaked: boolean; own: boolean }>(
    bobContainer,
    `
    import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
    import { join } from 'node:path';
    const exists = Object.fromEntries(JSON.parse(process.argv[1]).map((path) => [path, existsSync(path)]));
    const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : []);
    const holding = (text) => files('/app').some((file) => statSync(file).size < 50e6 && readFileSync(file).includes(text));
    console.log(JSON.stringify({ exists, leaked: holding('vault code is 2222'), own: holding('vault code is 1111') }));
    `,
    [stateDir(carol.instance.id), join(harness.dataDir, 'instances', carol.instance.id), harness.dataDir],
  );
  expect(Object.values(seen.exists)).toEqual([false, false, false]);
  expect(seen.leaked).toBe(false);
  // The same search finds bob's own words in his files: the check can see what it looks for.
  expect(seen.own).toBe(true);

  // Containers: bob's socket lists his own children only, and carol's answer 404 as if they did not exist.
  const carolChild = carolChildren[0] as string;
  const [list, inspectCarol, stopCarol, logsCarol] = await askInstanceSocket(bobContainer, [
    { method: 'GET', path: '/containers/json?all=1' },
    { method: 'GET', path: `/containers/${carolChild}/json` },
    { method: 'POST', path: `/containers/${carolChild}/stop` },
    { method: 'GET', path: `/containers/${carolChild}/logs?stdout=1` },
  ]);
  expect(list?.status).toBe(200);
  expect(((list as SocketAnswer).body as { Id: string }[]).map((container) => container.Id).sort()).toEqual(
    [...(await childrenOf(bob.instance.id))].sort(),
  );
  for (const answer of [inspectCarol, stopCarol, logsCarol]) expect(answer?.status).toBe(404);
  expect((await inspect(carolChild)).State.Running).toBe(true);
  // Bob's agent containers mount only what lives under his own instance's directory.
  const bobDir = join(harness.dataDir, 'instances', bob.instance.id);
  for (const id of bobChildren) {
    const sources = ((await inspect(id)).Mounts as { Source: string }[]).map((mount) => mount.Source);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source.startsWith(`${bobDir}/`)).toBe(true);
  }
}, 120_000);

test('5. the daemon killed during an active conversation and started again: nothing lost, no duplicate reply', async () => {
  const root = await mkdtemp(join(tmpdir(), 'nanoclaw-e2e-daemon-'));
  const dirs = daemonDirs(root);
  await mkdir(dirs.workloadsDir, { recursive: true });
  await writeFile(
    join(dirs.workloadsDir, 'nanoclaw.yaml'),
    await nanoclawWorkload({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      intervalSaveMs: 2_000,
      minIdle: 0,
      maxSize: 1,
      fileIdleTtlMs: 600_000,
      affinityTimeoutMs: 0,
      // A run cut off with the socket is retried soon.
      environment: { NANOCLAW_RETRY_BASE_MS: '1000' },
    }),
  );
  let daemon = await spawnDaemon(dirs, { ...S3_ENV, BOILERHOUSE_HOST_PORTS: String(modelPort()) });
  const daemonId = daemon.daemonId;
  try {
    await daemon.api('PUT', '/api/v1/tenants/erin/secrets', {
      workload: 'nanoclaw',
      values: {
        ANTHROPIC_BASE_URL: model.server.url,
        ANTHROPIC_API_KEY: API_KEY,
        NANOCLAW_WEB_TOKEN: WEB_TOKEN,
      },
    });
    const claim = await daemon.api<{ instance: { id: string; container_id: string }; endpoints: Endpoint[] }>(
      'POST',
      '/api/v1/tenants/erin/claim',
      { workload: 'nanoclaw' },
    );
    const url = claim.endpoints.find((endpoint) => endpoint.port === 3847)?.url as string;
    const chat = new ChatClient(() => url, WEB_TOKEN);
    // Each reply names the messages its turn answered; the first turn is held until the daemon is dead.
    const MARKERS = ['crash-slow', 'crash-during', 'crash-after'];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let turns = 0;
    model.on('crash-', async (request) => {
      turns++;
      const prompt = promptsOf(request).at(-1) ?? '';
      if (turns === 1) await held;
      return [
        { type: 'text', text: `answered ${MARKERS.filter((marker) => prompt.includes(marker)).join(' + ')}` },
      ];
    });
    await chat.post('main', 'crash-slow: take your time');
    await waitFor(() => turns === 1, 60_000, 'the first turn to reach the model');

    await daemon.kill();
    // The tenant's NanoClaw outlives the daemon and keeps taking messages.
    expect((await inspect(claim.instance.container_id)).State.Running).toBe(true);
    await chat.post('main', 'crash-during: while Boilerhouse is down');
    release();
    daemon = await spawnDaemon(dirs, { ...S3_ENV, BOILERHOUSE_HOST_PORTS: String(modelPort()) });
    expect(daemon.daemonId).toBe(daemonId);
    await chat.post('main', 'crash-after: after the restart');

    const answered = (replies: string[]) =>
      MARKERS.every((marker) => replies.some((reply) => reply.includes(marker)));
    await waitFor(async () => answered(await chat.replies('main')), 60_000, 'every message answered');
    // Anything still in flight would show up now.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const replies = await chat.replies('main');
    expect(new Set(replies).size).toBe(replies.length);
    for (const marker of MARKERS)
      expect(
        replies.filter((reply) => reply.includes(marker)),
        `replies: ${JSON.stringify(replies)}`,
      ).toHaveLength(1);
    // The same instance, still the tenant's, served by the new daemon.
    const tenant = await daemon.api<{ instances: { id: string; phase: string }[] }>(
      'GET',
      '/api/v1/tenants/erin',
    );
    expect(tenant.instances).toEqual([expect.objectContaining({ id: claim.instance.id, phase: 'claimed' })]);
  } finally {
    await daemon.api('POST', '/api/v1/tenants/erin/release', { workload: 'nanoclaw' }).catch(() => undefined);
    await daemon.stop();
    await removeDaemonLeftovers(harness.runtime, daemonId, dirs.dataDir);
    await rm(root, { recursive: true, force: true });
  }
}, 180_000);

test('6. escapes through the Docker socket are refused: a privileged child, host bind mounts', async () => {
  const bob = instanceOf('bob', 'nanoclaw-steady');
  expect(bob?.phase).toBe('claimed');
  const container = bob?.containerId as string;
  const before = await childrenOf(bob?.id as string);
  const create = (hostConfig: Record<string, unknown>) => ({
    method: 'POST',
    path: '/containers/create',
    body: { Image: 'nanoclaw-agent:latest', Cmd: ['true'], HostConfig: hostConfig },
  });
  const answers = await askInstanceSocket(container, [
    create({ Privileged: true }),
    create({ Binds: ['/:/host'] }),
    create({ Binds: ['/etc:/host-etc:ro'] }),
    create({ Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }),
    create({ Binds: ['/app/../../etc:/host-etc'] }),
  ]);
  for (const answer of answers) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.message).toMatch(/^boilerhouse: /);
  }
  expect(answers[0]?.body.message).toMatch(/privileged/i);
  // Nothing was created, and each refusal is on record.
  expect(await childrenOf(bob?.id as string)).toEqual(before);
  await waitFor(
    () =>
      signals.filter((signal) => signal.type === 'docker.denied' && signal.workload === 'nanoclaw-steady')
        .length >= 5,
    5_000,
    'the denials',
  );
}, 120_000);

test('a pre_release hook still runs when a workload wants one: its SQLite .backup is in the save', async () => {
  const bh = harness.boilerhouse;
  const claim = await claimWithModel('frank', 'nanoclaw-hooked');
  model.on('hook-note', () => [{ type: 'text', text: 'Noted for the backup' }]);
  await chatOf(claim).chat.post('main', 'hook-note: back this up');
  await chatOf(claim).chat.reply('main', (text) => text === 'Noted for the backup');
  await bh.release('frank', 'nanoclaw-hooked');
  const hook = events('hook.succeeded', 'frank');
  expect(hook).toHaveLength(1);
  expect(JSON.stringify(hook[0]?.data)).toContain('backed up');
  // A fresh instance restores the save: the backup file is in it, whole, with the message.
  await bh.destroy(claim.instance.id);
  const next = await claimWithModel('frank', 'nanoclaw-hooked');
  expect(next.instance.id).not.toBe(claim.instance.id);
  const backup = readDatabase(join(stateDir(next.instance.id), 'store', 'messages-backup.db'), (db) =>
    (db.prepare('SELECT text FROM messages').all() as { text: string }[]).map((row) => row.text),
  );
  expect(backup.integrity).toBe('ok');
  expect(backup.value).toContain('hook-note: back this up');
  await bh.release('frank', 'nanoclaw-hooked');
}, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: NanoClaw's JSON files, read field by field.
const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, 'utf8'));
