/**
 * The hosting guide (docs/hosting-nanoclaw.md), followed as an operator would: its `sh` blocks and the
 * commands its prose names are read from the guide and run in bash, with `bh` on PATH, against a real
 * daemon process serving the repository's NanoClaw workload with its state in a real S3-compatible server
 * (s3rver on loopback) and a scripted model. When the guide and the product drift apart, this fails.
 *
 * What the test must decide for itself is said where it does: the guide's `...` placeholders get test
 * values, and the channels that would reach the internet (Telegram, WhatsApp) are set as written, then
 * unset again with the guide's own `secrets unset` before the first claim.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { DockerRuntime } from '../../packages/boilerhouse/src/runtime/docker.ts';
import { MemoryDirs } from '../../packages/boilerhouse/src/secrets/index.ts';
import { type S3Server, startS3Server } from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { removeDaemonLeftovers } from '../../packages/boilerhouse/src/testing/leftovers.ts';
import { ChatClient, until } from '../../packages/nanoclaw/src/testing/e2e-host.ts';
import { type DaemonDirs, type DaemonProcess, daemonDirs, spawnDaemon } from './testing/daemon-process.ts';
import { containersLabelled, removeContainers } from './testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from './testing/nanoclaw-workload.ts';
import { type ScriptedModel, startScriptedModel } from './testing/scripted-model.ts';

const GUIDE = new URL('../../docs/hosting-nanoclaw.md', import.meta.url);
const CLI = new URL('../../packages/boilerhouse/src/cli/main.ts', import.meta.url).pathname;
const MODEL_KEY = 'guide-model-key-never-shown';

let guide: string;
let root: string;
let dirs: DaemonDirs;
let daemon: DaemonProcess;
let model: ScriptedModel;
let s3: S3Server;
/** Where the operator's `bh` lives: a shim for this checkout's CLI, as setup links it. */
let bin: string;

beforeAll(async () => {
  guide = await readFile(GUIDE, 'utf8');
  model = await startScriptedModel();
  s3 = await startS3Server('hosting-guide');
  root = await mkdtemp(join(tmpdir(), 'boilerhouse-test-guide-'));
  dirs = daemonDirs(root);
  bin = join(root, 'bin');
  await mkdir(dirs.workloadsDir, { recursive: true });
  await mkdir(bin);
  await writeFile(join(bin, 'bh'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(join(bin, 'bh'), 0o755);
  const workload = await nanoclawWorkload({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    minIdle: 1,
    maxSize: 2,
    fileIdleTtlMs: 600_000,
    affinityTimeoutMs: 60_000,
    intervalSaveMs: 2_000,
  });
  await writeFile(join(dirs.workloadsDir, 'nanoclaw.yaml'), workload);
  // The model server runs on this host: the guide's BOILERHOUSE_HOST_PORTS lets instances reach it.
  daemon = await spawnDaemon(dirs, { ...S3_ENV, BOILERHOUSE_HOST_PORTS: new URL(model.server.url).port });
}, 120_000);

afterAll(async () => {
  const daemonId = daemon?.daemonId;
  await daemon?.stop();
  if (daemonId !== undefined) {
    const runtime = new DockerRuntime();
    await removeDaemonLeftovers(runtime, daemonId, dirs.dataDir);
    runtime.close();
    await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  }
  if (dirs !== undefined) await rm(new MemoryDirs(dirs.dataDir).root, { recursive: true, force: true });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  await s3?.stop();
  await model?.close();
}, 60_000);

interface Shell {
  code: number;
  out: string;
  err: string;
}

/** Runs a script in bash, stopping at the first failing line, as the operator's shell with bh on PATH. */
function sh(script: string): Promise<Shell> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        HOME: root,
        BOILERHOUSE_URL: daemon.url,
        BOILERHOUSE_TOKEN: dirs.apiKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** The first `sh` block under a heading of the guide. */
function blockUnder(heading: string): string {
  const at = guide.indexOf(`## ${heading}\n`);
  if (at < 0) throw new Error(`the hosting guide has no heading "${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(guide.slice(at))?.[1];
  if (block === undefined) throw new Error(`the hosting guide has no sh block under "${heading}"`);
  return block;
}

/** A command the guide's prose gives in backticks (it may wrap across lines), as one line. */
function proseCommand(pattern: RegExp): string {
  const found = [...guide.matchAll(/`(bh [^`]+)`/g)]
    .map((match) => (match[1] as string).replace(/\s+/g, ' '))
    .find((command) => pattern.test(command));
  if (found === undefined) throw new Error(`the hosting guide names no command matching ${pattern}`);
  return found;
}

/** The guide's `NAME=...` placeholders, filled with what this test uses. */
function fillPlaceholders(script: string, values: Record<string, string>): string {
  return script.replace(/\b([A-Z][A-Z0-9_]*)=\.\.\.(?=\s|$)/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined)
      throw new Error(`the hosting guide has a placeholder ${whole} this test cannot fill`);
    return `${name}=${value}`;
  });
}

function expectSuccess(run: Shell, what: string): void {
  expect(run.code, `${what}\nstdout:\n${run.out}\nstderr:\n${run.err}`).toBe(0);
}

let webToken = '';
let endpoint = '';

test("A tenant's settings are their secrets: each set keeps the others, a bare name comes from the shell", async () => {
  const block = fillPlaceholders(blockUnder("A tenant's settings are their secrets"), {
    ANTHROPIC_API_KEY: MODEL_KEY,
    TELEGRAM_BOT_TOKEN: '123456:guide-test-bot-token',
  });
  const run = await sh(`${block}\necho "web token: $NANOCLAW_WEB_TOKEN"`);
  expectSuccess(run, 'the secrets block');
  webToken = /web token: ([0-9a-f]{48})/.exec(run.out)?.[1] ?? '';
  expect(webToken).not.toBe('');
  // `bh secrets list alice`, the block's last line: every name the block set, none of the values.
  for (const name of ['ANTHROPIC_API_KEY', 'NANOCLAW_WEB_TOKEN', 'TELEGRAM_BOT_TOKEN', 'WHATSAPP_ENABLED'])
    expect(run.out).toContain(name);
  expect(run.out + run.err).not.toContain(MODEL_KEY);
  expect(run.out.replace(`web token: ${webToken}`, '')).not.toContain(webToken);

  // The channels would dial Telegram and WhatsApp: off again, with the command the guide gives.
  const unset = proseCommand(/^bh secrets unset alice --workload nanoclaw TELEGRAM_BOT_TOKEN$/);
  expectSuccess(await sh(unset), unset);
  expectSuccess(await sh(unset.replace('TELEGRAM_BOT_TOKEN', 'WHATSAPP_ENABLED')), 'unset WHATSAPP_ENABLED');

  // The guide's way to a model on this host (BOILERHOUSE_HOST_PORTS), and its limits line, as written.
  const limits = proseCommand(/^bh secrets set alice --workload nanoclaw NANOCLAW_LIMIT_/);
  expectSuccess(await sh(limits), limits);
  expect(guide).toContain('ANTHROPIC_BASE_URL=http://172.17.0.1:4000');
  expectSuccess(
    await sh(`bh secrets set alice --workload nanoclaw ANTHROPIC_BASE_URL=${model.server.url}`),
    'the model address',
  );
  const listed = await sh('bh secrets list alice');
  expectSuccess(listed, 'secrets list');
  for (const name of [
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_BASE_URL',
    'NANOCLAW_WEB_TOKEN',
    'NANOCLAW_LIMIT_MONTH_TOKENS',
  ])
    expect(listed.out).toContain(name);
  expect(listed.out).not.toContain('TELEGRAM_BOT_TOKEN');
}, 60_000);

test('Claim, hand over: the claim prints the chat endpoint; the token link sets a cookie; the assistant answers', async () => {
  await until(
    async () =>
      (await daemon.api<{ instances: { ready: number } }>('GET', '/api/v1/pools/nanoclaw')).instances.ready >
      0,
    'a warm nanoclaw instance',
    90_000,
  );
  const run = await sh(blockUnder('Claim, hand over, let go'));
  expectSuccess(run, 'the claim block');
  endpoint = /3847 -> (http:\/\/\S+)/.exec(run.out)?.[1] ?? '';
  expect(endpoint, run.out).not.toBe('');

  // "give her `<endpoint>/?token=<NANOCLAW_WEB_TOKEN>` once; the page swaps the token for a cookie".
  const link = await fetch(`${endpoint}/?token=${webToken}`, { redirect: 'manual' });
  expect(link.status).toBe(303);
  expect(link.headers.get('location')).not.toContain(webToken);
  const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] as string;
  expect(cookie).toMatch(/^nanoclaw_token=/);
  expect((await fetch(`${endpoint}/`, { headers: { cookie } })).status).toBe(200);
  expect((await fetch(`${endpoint}/`)).status).toBe(401);

  const chat = new ChatClient(() => endpoint, webToken);
  model.on('guide-hello', () => [{ type: 'text', text: 'Hello from the guide’s assistant' }]);
  await chat.post('main', 'guide-hello: I am alice');
  await chat.reply('main', (text) => text === 'Hello from the guide’s assistant', 90_000);
  // The model saw the tenant's key (through NanoClaw's proxy), and the usage is counted.
  expect(model.requestsFor('guide-hello').length).toBeGreaterThan(0);
  const usage = await fetch(`${endpoint}/api/usage`, { headers: { authorization: `Bearer ${webToken}` } });
  expect(usage.status).toBe(200);
  const counted = (await usage.json()) as {
    usage: { today: { requests: number } };
    limits: { tenant: { month_tokens: number | null }; group: { day_requests: number | null } };
  };
  expect(counted.usage.today.requests).toBeGreaterThan(0);
  // The guide's limits line, set before the claim, is what this NanoClaw counts against.
  expect(counted.limits.tenant.month_tokens).toBe(20_000_000);
  expect(counted.limits.group.day_requests).toBe(500);
}, 180_000);

test('Settings reach NanoClaw at its next start: destroy the instance from `tenant show`; its state comes back', async () => {
  const show = await sh('bh tenant show alice');
  expectSuccess(show, 'bh tenant show alice');
  const instanceId = /\b(nanoclaw-[0-9a-z-]+)\b/.exec(show.out)?.[1] ?? '';
  expect(instanceId, show.out).not.toBe('');
  const destroy = proseCommand(/^bh instances destroy <id>$/).replace('<id>', instanceId);
  expectSuccess(await sh(destroy), destroy);

  const again = await sh(blockUnder('Claim, hand over, let go'));
  expectSuccess(again, 'the claim block, again');
  endpoint = /3847 -> (http:\/\/\S+)/.exec(again.out)?.[1] ?? '';
  expect(again.out).not.toContain(instanceId);
  const chat = new ChatClient(() => endpoint, webToken);
  // "its state is saved first and restored into the next": the conversation is there.
  const messages = await until(async () => {
    const texts = (await chat.messages('main').catch(() => [])).map((message) => message.text);
    return texts.includes('guide-hello: I am alice') ? texts : undefined;
  }, "alice's conversation after the destroy");
  expect(messages).toContain('Hello from the guide’s assistant');
}, 180_000);
