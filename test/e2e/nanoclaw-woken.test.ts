/**
 * A released NanoClaw tenant woken by Boilerhouse (issue 16), end to end on the real engine: the
 * repository's workload (its `pool.wake.at_file` and `gateway` blocks), state in s3rver, the agent image,
 * the scripted model, the Bot API stand-in. Released tenants are gone entirely (no reservation), so every
 * wake is a cold claim that restores the state. The due task's wake: NanoClaw's wake file, read at the
 * release's save, has Boilerhouse claim the tenant at the task's time; the task runs once, its reply is in
 * the chat, and the tenant idles out again. The Telegram update's wake: the update Telegram posts to the
 * tenant's gateway address wakes it, and is answered once it is taken.
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ClaimResult } from '../../packages/boilerhouse/src/pool/claims.ts';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { type S3Server, startS3Server } from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { type Harness, startHarness, waitFor } from '../../packages/boilerhouse/src/testing/harness.ts';
import { type BotApi, startBotApi } from '../../packages/nanoclaw/src/testing/bot-api.ts';
import { ChatClient } from '../../packages/nanoclaw/src/testing/e2e-host.ts';
import { dockerBridgeGateway } from '../../packages/nanoclaw-agent/src/testing/model-server.ts';
import { containersLabelled, removeContainers } from './testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from './testing/nanoclaw-workload.ts';
import { type ScriptedModel, startScriptedModel } from './testing/scripted-model.ts';

const WORKLOAD = new URL('../../workloads/nanoclaw.yaml', import.meta.url);
const API_KEY = 'e2e-model-key-never-logged';
const WEB_TOKEN = 'e2e-web-token-for-each-chat';
const BOT_TOKEN = '4242:e2e-bot-token';
const WEBHOOK_SECRET = randomBytes(24).toString('base64url');
let model: ScriptedModel;
let bot: BotApi;
let s3: S3Server;
let harness: Harness;

beforeAll(async () => {
  model = await startScriptedModel();
  bot = await startBotApi({ token: BOT_TOKEN, username: 'andy_bot', host: await dockerBridgeGateway() });
  s3 = await startS3Server('nanoclaw-woken');
  const workload = await nanoclawWorkload({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    intervalSaveMs: 2_000,
    minIdle: 0,
    maxSize: 2,
    fileIdleTtlMs: 6_000,
    affinityTimeoutMs: 0,
  });
  // The test's pool replaces the workload's; its wake file is the workload's own.
  const wake = /^ {4}at_file: (\S+)$/m.exec(await readFile(WORKLOAD, 'utf8'))?.[1];
  if (wake === undefined) throw new Error('workloads/nanoclaw.yaml has no pool.wake.at_file');
  harness = await startHarness(
    { 'nanoclaw.yaml': workload.replace(/\npool:\n/, `\npool:\n  wake:\n    at_file: ${wake}\n`) },
    {
      env: S3_ENV,
      hostPorts: [Number(new URL(model.server.url).port), Number(new URL(bot.url).port)],
      gateway: { host: '127.0.0.1', port: 0, domain: null },
    },
  );
});

afterAll(async () => {
  const daemonId = harness?.boilerhouse.daemonId;
  for (const instance of harness?.boilerhouse.instances() ?? [])
    await harness.boilerhouse.destroy(instance.id).catch(() => undefined);
  await harness?.cleanup();
  if (daemonId !== undefined) {
    await removeContainers(await containersLabelled({ [CHILD_LABEL.daemon]: daemonId }));
  }
  await s3?.stop();
  await bot?.close();
  await model?.close();
});

const gateway = (tenant: string) => `${harness.boilerhouse.gateway?.url}/nanoclaw/${tenant}`;
const events = (type: string, tenant: string) =>
  harness.boilerhouse.events(1000).filter((event) => event.type === type && event.tenant === tenant);
const held = (tenant: string) => harness.boilerhouse.tenant(tenant).instances.length > 0;

async function claim(tenant: string, secrets: Record<string, string> = {}): Promise<ClaimResult> {
  harness.boilerhouse.putSecrets(tenant, 'nanoclaw', {
    ANTHROPIC_BASE_URL: model.server.url,
    ANTHROPIC_API_KEY: API_KEY,
    NANOCLAW_WEB_TOKEN: WEB_TOKEN,
    ...secrets,
  });
  return harness.boilerhouse.claim(tenant, 'nanoclaw');
}

test('a one-off task due while the tenant is released wakes it, runs once, posts its reply, and idles out', async () => {
  const bh = harness.boilerhouse;
  await claim('alice');
  // Read only while the tenant is claimed: a request through the gateway would wake it by itself.
  const chat = new ChatClient(() => gateway('alice'), WEB_TOKEN);
  const dueAt = new Date(Date.now() + 30_000);
  model.on(
    'remind-me',
    () => [
      {
        type: 'tool_use',
        name: 'mcp__nanoclaw__schedule_task',
        input: { prompt: 'WOKEN-TASK: remind', schedule_type: 'once', schedule_value: dueAt.toISOString() },
      },
    ],
    () => [{ type: 'text', text: 'I will remind you' }],
  );
  model.on('WOKEN-TASK', () => [{ type: 'text', text: 'the reminder, from a woken assistant' }]);
  await chat.post('main', 'remind-me in thirty seconds');
  await chat.reply('main', (text) => text === 'I will remind you', 90_000);

  // Quiet files: saved (the wake file read), released, gone; the wake is listed.
  await waitFor(() => !held('alice'), 60_000, 'alice released for idleness');
  expect(bh.tenant('alice').wakes).toMatchObject([{ trigger: 'schedule', dueAt: dueAt.getTime() }]);
  expect(events('tenant.woken', 'alice')).toEqual([]);

  await waitFor(() => events('tenant.woken', 'alice').length > 0, 90_000, 'the wake');
  const [wake] = events('tenant.woken', 'alice');
  expect(wake?.data).toMatchObject({ trigger: 'schedule', dueAt: dueAt.toISOString(), path: 'cold' });
  const reply = await chat.reply('main', (text) => text === 'the reminder, from a woken assistant', 90_000);
  console.log(
    `task wake: claimed ${wake?.data?.latencyMs} ms after the due time; reply in the chat ${Date.now() - dueAt.getTime()} ms after it`,
  );
  expect(reply).toBeDefined();
  expect((await chat.replies('main')).filter((text) => text === reply)).toHaveLength(1);
  expect(model.requestsFor('WOKEN-TASK')).toHaveLength(1);

  // Done: it idles out again, and no wake is left (the one-off completed, its wake file removed).
  await waitFor(() => !held('alice'), 60_000, 'alice released again');
  expect(bh.tenant('alice').wakes).toEqual([]);
  expect(events('tenant.woken', 'alice')).toHaveLength(1);
}, 360_000);

test('a Telegram update posted to the gateway wakes the released tenant and is answered once', async () => {
  const webhookUrl = `${gateway('bob')}/telegram/webhook`;
  await claim('bob', {
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    TELEGRAM_API_ROOT: bot.url,
    TELEGRAM_WEBHOOK_URL: webhookUrl,
    TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  // The claim is ready once a channel (the web chat) answers; Telegram may still be connecting.
  await waitFor(() => bot.calls.some((call) => call.method === 'setWebhook'), 10_000, 'the webhook set');
  expect(bot.calls.filter((call) => call.method === 'setWebhook').map((call) => call.body)).toEqual([
    { url: webhookUrl, secret_token: WEBHOOK_SECRET },
  ]);
  expect(bot.polls).toBe(0);
  // Bob's main chat registers his Telegram chat (where the bot's mention is the trigger).
  const chat = new ChatClient(() => gateway('bob'), WEB_TOKEN);
  model.on(
    'register-telegram',
    () => [
      {
        type: 'tool_use',
        name: 'mcp__nanoclaw__register_group',
        input: { jid: 'tg:77', name: 'Bob on Telegram', folder: 'bob-telegram' },
      },
    ],
    () => [{ type: 'text', text: 'Telegram is registered' }],
  );
  await chat.post('main', 'register-telegram');
  await chat.reply('main', (text) => text === 'Telegram is registered', 90_000);
  await waitFor(() => !held('bob'), 60_000, 'bob released for idleness');

  model.on('tg-wake', () => [{ type: 'text', text: 'answered over Telegram after a wake' }]);
  bot.pushMessage({ chatId: 77, fromId: 77, firstName: 'Bob', text: '@andy_bot tg-wake: are you there?' });
  await waitFor(
    () => bot.calls.some((call) => call.method === 'sendMessage' && call.body.chat_id === 77),
    120_000,
    'the answer over Telegram',
  );
  const woken = events('tenant.woken', 'bob');
  expect(woken).toHaveLength(1);
  expect(woken[0]?.data).toMatchObject({ trigger: 'request', path: 'cold' });
  // Whatever the wake cost, the update was taken in the end, and answered once.
  expect(bot.webhookAnswers.at(-1)).toEqual({ updateId: 1, status: 200 });
  console.log(`webhook wake: answers until taken ${JSON.stringify(bot.webhookAnswers)}`);
  const sent = bot.calls.filter((call) => call.method === 'sendMessage' && call.body.chat_id === 77);
  expect(sent.map((call) => call.body.text)).toEqual(['answered over Telegram after a wake']);
}, 360_000);
