/**
 * NanoClaw booted ahead of its claim (pool.boot: ahead) starts its main group's agent container while it
 * waits in the pool (packages/nanoclaw/src/agent/ahead-of-start.ts): before the claim that container holds
 * no credential and sees nothing of any tenant; the claim's first run is that container, and it reads the
 * tenant's files restored after it started. The repository's workload on the real engine, state in s3rver
 * on loopback, the turn answered by the real Agent SDK against a scripted model.
 */
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { type S3Server, startS3Server } from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { type Harness, startHarness } from '../../packages/boilerhouse/src/testing/harness.ts';
import { ChatClient, until } from '../../packages/nanoclaw/src/testing/e2e-host.ts';
import { childrenOf, containersLabelled, inspect, removeContainers } from './testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from './testing/nanoclaw-workload.ts';
import { type ScriptedModel, startScriptedModel } from './testing/scripted-model.ts';

const WEB_TOKEN = 'agent-ahead-test-web-token';
const MODEL_KEY = 'agent-ahead-test-model-key';
const NOTE = 'the tenant wrote this before its release';
let model: ScriptedModel;
let s3: S3Server;
let harness: Harness;

beforeAll(async () => {
  model = await startScriptedModel();
  s3 = await startS3Server('nanoclaw-agent-ahead');
  harness = await startHarness(
    {
      'nanoclaw.yaml': await nanoclawWorkload({
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        minIdle: 1,
        maxSize: 2,
        fileIdleTtlMs: 600_000,
        affinityTimeoutMs: 60_000,
        intervalSaveMs: 60_000,
      }),
    },
    { env: S3_ENV, hostPorts: [Number(new URL(model.server.url).port)] },
  );
});

afterAll(async () => {
  const daemonId = harness?.boilerhouse.daemonId;
  for (const instance of harness?.boilerhouse.instances() ?? [])
    await harness.boilerhouse.destroy(instance.id).catch(() => undefined);
  await harness?.cleanup();
  if (daemonId !== undefined)
    await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  await s3?.stop();
  await model?.close();
});

const chatOf = (endpoints: { port: number; url: string }[]) =>
  new ChatClient(() => endpoints.find((endpoint) => endpoint.port === 3847)?.url as string, WEB_TOKEN);
const stateDir = (instanceId: string) => join(harness.dataDir, 'instances', instanceId, 'volumes', 'state');

/** The ready instance's one agent container, once it runs. */
async function agentAheadOf(instanceId: string): Promise<string> {
  return until(async () => {
    const [child] = await childrenOf(instanceId);
    if (child === undefined) return undefined;
    return (await inspect(child)).State.Running ? child : undefined;
  }, `an agent container of the ready instance ${instanceId}`);
}

test("the ready instance's agent container, started before the claim, answers the tenant's first message with the tenant's restored files", async () => {
  const bh = harness.boilerhouse;
  bh.putSecrets('alice', 'nanoclaw', {
    NANOCLAW_WEB_TOKEN: WEB_TOKEN,
    ANTHROPIC_API_KEY: MODEL_KEY,
    ANTHROPIC_BASE_URL: model.server.url,
  });
  // alice's first tenancy leaves a note in her main group's folder, saved as the instance is destroyed.
  const first = await bh.claim('alice', 'nanoclaw');
  const group = join(stateDir(first.instance.id), 'groups', 'main');
  await mkdir(group, { recursive: true });
  await writeFile(join(group, 'notes.txt'), NOTE);
  await chown(join(group, 'notes.txt'), 1000, 1000);
  await bh.release('alice', 'nanoclaw');
  await bh.destroy(first.instance.id);

  const ready = await until(
    () => bh.instances().find((instance) => instance.phase === 'ready'),
    'a ready instance',
  );
  const ahead = await agentAheadOf(ready.id);
  const before = await inspect(ahead);
  const env: string[] = before.Config.Env;
  expect(env.some((entry) => entry.includes(MODEL_KEY) || entry.startsWith('ANTHROPIC_API_KEY='))).toBe(
    false,
  );
  await expect(readdir(join(stateDir(ready.id), 'groups', 'main'))).resolves.not.toContain('notes.txt');

  model.on(
    'ahead-read',
    () => [{ type: 'tool_use', name: 'Read', input: { file_path: '/workspace/group/notes.txt' } }],
    (results) => [{ type: 'text', text: `the note says: ${results.join(' ')}` }],
  );
  const claim = await bh.claim('alice', 'nanoclaw');
  expect(claim.instance.id).toBe(ready.id);
  expect(claim.path).toBe('warm');
  const chat = chatOf(claim.endpoints);
  await chat.post('main', 'ahead-read: what is in my notes?');
  const reply = await chat.reply('main', (text) => text.startsWith('the note says:'), 120_000);
  expect(reply).toContain(NOTE);

  // That reply's run is the container started before the claim: the one child, its run log names it.
  expect(await childrenOf(ready.id)).toEqual([ahead]);
  const logs = join(stateDir(ready.id), 'groups', 'main', 'logs');
  const newest = (await readdir(logs)).filter((name) => name.startsWith('container-')).sort();
  const header = await readFile(join(logs, newest.at(-1) as string), 'utf8');
  // The engine's name is the host's, prefixed by the filtered socket.
  const ran = /\] run (\S+) started/.exec(header)?.[1];
  expect(ran).toMatch(/^nanoclaw-ahead-/);
  expect(before.Name.endsWith(`_${ran}`)).toBe(true);
  expect(Number(/container up (\d+) ms before its input/.exec(header)?.[1])).toBeGreaterThan(0);
}, 300_000);
