/**
 * NanoClaw's overhead from message in to reply out, model time excluded: the scripted model server answers
 * at once. Two paths, each next to a baseline measured in the same run with the same agent image:
 *
 *   new container per run   POST to the web chat -> reply event on its live stream, each message in a
 *                           fresh agent container (the previous one has exited), with the next container
 *                           started ahead of need (the default) and without (NANOCLAW_PREWARM=false);
 *     baseline: the agent run directly through the runner (container start -> reply frame), no host;
 *   follow-up               the same, to an agent container still running from the message before;
 *     baseline: a follow-up file written straight into a running agent's input dir -> reply frame.
 *
 * Each message row is also split at the model: message in -> first model request, model reply -> reply out.
 *
 *   npm run bench:nanoclaw -- [--messages 100] [--json]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readSse } from '@boilerhouse/kit/sse';
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import { dockerClient, removeLeftovers } from '../packages/nanoclaw/src/agent/docker.ts';
import { writeClose, writeFollowUp } from '../packages/nanoclaw/src/agent/input-dir.ts';
import { ModelProxy } from '../packages/nanoclaw/src/agent/model-proxy.ts';
import { groupMounts } from '../packages/nanoclaw/src/agent/mounts.ts';
import { AgentRunner } from '../packages/nanoclaw/src/agent/runner.ts';
import { agentEnvironment, loadConfig } from '../packages/nanoclaw/src/config.ts';
import { Layout, prepareGroupDirs, prepareHome } from '../packages/nanoclaw/src/layout.ts';
import { silentLogger } from '../packages/nanoclaw/src/log.ts';
import { startNanoclaw } from '../packages/nanoclaw/src/nanoclaw.ts';
import {
  type MessagesRequest,
  startModelServer,
} from '../packages/nanoclaw-agent/src/testing/model-server.ts';
import { userPrompts } from '../packages/nanoclaw-agent/src/testing/requests.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { messages: { type: 'string', default: '100' }, json: { type: 'boolean', default: false } },
});
const count = Number(flags.messages);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

/** When the model saw each marker, and when it answered. */
const modelSeen = new Map<string, number>();
const model = await startModelServer(
  (request: MessagesRequest) => {
    const prompt = userPrompts(request).at(-1) ?? '';
    const marker = /bench-[a-z]+-\d+/.exec(prompt)?.[0] ?? 'unknown';
    if (!modelSeen.has(marker)) modelSeen.set(marker, performance.now());
    return [{ type: 'text', text: `reply to ${marker}` }];
  },
  { host: '127.0.0.1' },
);
const docker = dockerClient(undefined);
const roots: string[] = [];
const hostIds: string[] = [];

async function freshHome(name: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), `nanoclaw-bench-${name}-`));
  roots.push(home);
  return home;
}

function configFor(home: string, idleTimeoutMs: number, prewarm = true) {
  return loadConfig({
    NANOCLAW_PREWARM: String(prewarm),
    NANOCLAW_HOME: home,
    NANOCLAW_PORT: '0',
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'bench-key',
    IDLE_TIMEOUT: String(idleTimeoutMs),
    TZ: 'UTC',
  });
}

/** Follows the web chat's live stream; resolves reply waiters as replies arrive. */
async function followReplies(url: string) {
  const waiters = new Map<string, (at: number) => void>();
  const stream = new AbortController();
  const response = await fetch(`${url}/api/chats/main/stream`, { signal: stream.signal });
  (async () => {
    for await (const event of readSse(response.body as ReadableStream<Uint8Array>)) {
      const at = performance.now();
      if (event.event !== 'message') continue;
      const message = JSON.parse(event.data) as { text: string; from_assistant: boolean };
      const marker = /bench-[a-z]+-\d+/.exec(message.text)?.[0];
      if (message.from_assistant && marker !== undefined) waiters.get(marker)?.(at);
    }
  })().catch(() => undefined);
  return {
    reply: (marker: string) => new Promise<number>((resolve) => waiters.set(marker, resolve)),
    close: () => stream.abort(),
  };
}

interface Split {
  total: number[];
  toModel: number[];
  fromModel: number[];
}

/** Sends `marker` to main and times it to the reply event. */
async function timeMessage(
  url: string,
  replies: Awaited<ReturnType<typeof followReplies>>,
  marker: string,
  split: Split,
) {
  const replied = replies.reply(marker);
  const sent = performance.now();
  const response = await fetch(`${url}/api/chats/main/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sender: 'bench', text: marker }),
  });
  if (response.status !== 201) throw new Error(`POST failed: ${response.status} ${await response.text()}`);
  const out = await replied;
  const seen = modelSeen.get(marker) ?? Number.NaN;
  split.total.push(out - sent);
  split.toModel.push(seen - sent);
  split.fromModel.push(out - seen);
}

async function waitForIdleHost(url: string): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { queue: { running: number } };
    if (health.queue.running === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A: every message in a new container. The agent exits 1 s after answering; the next message goes 1.5 s
 * after the host has no run (messages minutes apart are the usual case: by then a container started ahead
 * of need, when prewarm is on, is waiting).
 */
async function newContainerPerRun(prewarm: boolean): Promise<Split> {
  const home = await freshHome(prewarm ? 'new' : 'cold');
  const nanoclaw = await startNanoclaw(configFor(home, 1000, prewarm), { log: silentLogger });
  hostIds.push(readFileSync(join(home, 'data', 'host_id'), 'utf8').trim());
  const replies = await followReplies(nanoclaw.url);
  const split: Split = { total: [], toModel: [], fromModel: [] };
  const discard: Split = { total: [], toModel: [], fromModel: [] };
  const label = prewarm ? 'new' : 'cold';
  for (let index = -2; index < count; index++) {
    await waitForIdleHost(nanoclaw.url);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Two warm-up messages (first image use, first session) are not counted.
    await timeMessage(nanoclaw.url, replies, `bench-${label}-${index + 2}`, index < 0 ? discard : split);
    if (index % 20 === 19)
      say(`  new container per run${prewarm ? '' : ', no prewarm'}: ${index + 1}/${count}`);
  }
  await replies.close();
  await nanoclaw.stop();
  return split;
}

/** B: every message a follow-up to the container still running from the one before. */
async function followUps(): Promise<Split> {
  const home = await freshHome('follow');
  const nanoclaw = await startNanoclaw(configFor(home, 10 * 60_000), { log: silentLogger });
  hostIds.push(readFileSync(join(home, 'data', 'host_id'), 'utf8').trim());
  const replies = await followReplies(nanoclaw.url);
  const split: Split = { total: [], toModel: [], fromModel: [] };
  const discard: Split = { total: [], toModel: [], fromModel: [] };
  for (let index = -2; index < count; index++) {
    await timeMessage(nanoclaw.url, replies, `bench-follow-${index + 2}`, index < 0 ? discard : split);
    if (index % 20 === 19) say(`  follow-ups: ${index + 1}/${count}`);
  }
  await replies.close();
  await nanoclaw.stop();
  return split;
}

/** Baselines: the same agent image through the same runner, with no host around it. */
async function directAgent(): Promise<{ run: number[]; followUp: number[] }> {
  const home = await freshHome('direct');
  const layout = new Layout(home);
  prepareHome(layout, 'Andy');
  prepareGroupDirs(layout, 'main');
  const config = configFor(home, 10 * 60_000);
  const runner = new AgentRunner(docker, silentLogger);
  const hostId = `b${randomBytes(4).toString('hex')}`.slice(0, 8);
  hostIds.push(hostId);
  // As the host does: the model's key stays in this process, each run gets a token.
  const proxy = new ModelProxy({
    credential: { apiKey: config.model.apiKey, authToken: undefined },
    endpoint: config.model.baseUrl,
    log: silentLogger,
  });
  await proxy.serveGroup('main', layout.modelSocketPath('main'));
  const start = async (marker: string, onOutput: (output: ParsedOutput) => void) =>
    runner.start({
      name: `nanoclaw-${hostId}-main-${marker}`,
      labels: { 'nanoclaw.host': hostId },
      input: {
        prompt: marker,
        sessionId: null,
        group: 'main',
        chatJid: 'web:main',
        isMain: true,
        isScheduledTask: false,
        assistantName: 'Andy',
        modelToken: proxy.issueToken('main').value,
      },
      mounts: groupMounts(layout, 'main', true, []),
      env: agentEnvironment(config),
      settings: config.container,
      logPath: join(layout.logsDir('main'), `${marker}.log`),
      onOutput,
    });
  const run: number[] = [];
  for (let index = -2; index < count; index++) {
    const marker = `bench-direct-${index + 2}`;
    let answered: (at: number) => void = () => undefined;
    const frame = new Promise<number>((resolve) => {
      answered = resolve;
    });
    const began = performance.now();
    const agent = await start(marker, () => answered(performance.now()));
    const at = await frame;
    writeClose(layout.ipcDir('main'));
    await agent.done;
    if (index >= 0) run.push(at - began);
    if (index % 20 === 19) say(`  direct runs: ${index + 1}/${count}`);
  }
  const followUp: number[] = [];
  let answered: (at: number) => void = () => undefined;
  const next = () =>
    new Promise<number>((resolve) => {
      answered = resolve;
    });
  let frame = next();
  const agent = await start('bench-directfollow-0', () => answered(performance.now()));
  await frame;
  for (let index = -2; index < count; index++) {
    frame = next();
    const began = performance.now();
    writeFollowUp(layout.ipcDir('main'), `bench-directfollow-${index + 3}`);
    const at = await frame;
    if (index >= 0) followUp.push(at - began);
  }
  writeClose(layout.ipcDir('main'));
  await agent.done;
  await proxy.close();
  return { run, followUp };
}

let results: {
  newContainer: Record<string, Distribution>;
  followUp: Record<string, Distribution>;
};
try {
  say(`NanoClaw bench: ${count} messages per path`);
  const direct = await directAgent();
  const fresh = await newContainerPerRun(true);
  const cold = await newContainerPerRun(false);
  const follow = await followUps();
  results = {
    newContainer: {
      'agent run, direct (baseline)': distribution(direct.run),
      'new container per run': distribution(fresh.total),
      '  message in -> model request': distribution(fresh.toModel),
      '  model reply -> reply out': distribution(fresh.fromModel),
      'new container, no prewarm': distribution(cold.total),
      '  no prewarm: message in -> model request': distribution(cold.toModel),
      '  no prewarm: model reply -> reply out': distribution(cold.fromModel),
    },
    followUp: {
      'follow-up file, direct (baseline)': distribution(direct.followUp),
      'follow-up to a running container': distribution(follow.total),
      '  message in -> model request': distribution(follow.toModel),
      '  model reply -> reply out': distribution(follow.fromModel),
    },
  };
} finally {
  for (const hostId of hostIds) await removeLeftovers(docker, hostId);
  await model.close();
  for (const root of roots) await rm(root, { recursive: true, force: true });
}

const freshP50 = results.newContainer['new container per run']?.p50 ?? Number.NaN;
const followP50 = results.followUp['follow-up to a running container']?.p50 ?? Number.NaN;
const targets = {
  newContainerP50Under1000ms: freshP50 < 1000,
  followUpP50Under150ms: followP50 < 150,
};
if (flags.json) {
  console.log(JSON.stringify({ messages: count, latencyMs: results, targets }, null, 2));
} else {
  console.log(
    formatTable(
      results.newContainer,
      results.newContainer['agent run, direct (baseline)']?.p50 ?? Number.NaN,
    ),
  );
  console.log('');
  console.log(
    formatTable(results.followUp, results.followUp['follow-up file, direct (baseline)']?.p50 ?? Number.NaN),
  );
  console.log(
    `\nnew container per run p50 ${freshP50.toFixed(0)} ms (target < 1000 ms: ${targets.newContainerP50Under1000ms ? 'met' : 'NOT met'}); follow-up p50 ${followP50.toFixed(0)} ms (target < 150 ms: ${targets.followUpP50Under150ms ? 'met' : 'NOT met'})`,
  );
}
