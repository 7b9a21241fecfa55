/**
 * NanoClaw hosted on Boilerhouse without a model (issue 18): its reply names what Boilerhouse's operator
 * does (a tenant's secret, then the instance destroyed), not NanoClaw's own `.env` and restart; and doing
 * what it says works. The repository's workload on the real engine, state in s3rver on loopback, the turn
 * answered by the real Agent SDK against a scripted model.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHILD_LABEL } from '../../packages/boilerhouse/src/proxy/children.ts';
import { type S3Server, startS3Server } from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { type Harness, startHarness } from '../../packages/boilerhouse/src/testing/harness.ts';
import { ChatClient, until } from '../../packages/nanoclaw/src/testing/e2e-host.ts';
import { containersLabelled, removeContainers } from './testing/engine.ts';
import { nanoclawWorkload, S3_ENV } from './testing/nanoclaw-workload.ts';
import { type ScriptedModel, startScriptedModel } from './testing/scripted-model.ts';

const WEB_TOKEN = 'no-model-test-web-token';
let model: ScriptedModel;
let s3: S3Server;
let harness: Harness;

beforeAll(async () => {
  model = await startScriptedModel();
  s3 = await startS3Server('nanoclaw-no-model');
  harness = await startHarness(
    {
      'nanoclaw.yaml': await nanoclawWorkload({
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        minIdle: 0,
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

/** The tenant's chat on the claim's endpoint for NanoClaw's port. */
function chatOf(endpoints: { port: number; url: string }[]): ChatClient {
  const url = endpoints.find((endpoint) => endpoint.port === 3847)?.url as string;
  return new ChatClient(() => url, WEB_TOKEN);
}

test("the no-model reply names the operator's commands for the tenant, and following them works", async () => {
  const bh = harness.boilerhouse;
  bh.putSecrets('alice', 'nanoclaw', { NANOCLAW_WEB_TOKEN: WEB_TOKEN });
  const first = await bh.claim('alice', 'nanoclaw');
  const chat = chatOf(first.endpoints);
  await chat.post('main', 'hello?');
  const reply = await chat.reply('main', (text) => text.includes('No model is configured'));
  expect(reply).toContain('`bh secrets set alice --workload nanoclaw ANTHROPIC_API_KEY`');
  expect(reply).toContain(`\`bh instances destroy ${first.instance.id}\``);
  expect(reply).not.toContain('.env');

  // The key among alice's secrets (as `bh secrets set` stores it) does not reach the host that runs.
  bh.updateSecrets('alice', 'nanoclaw', {
    set: { ANTHROPIC_API_KEY: 'no-model-test-key', ANTHROPIC_BASE_URL: model.server.url },
    remove: [],
  });
  await chat.post('main', 'and now?');
  await until(async () => {
    const noModel = (await chat.replies('main')).filter((text) => text.includes('No model is configured'));
    return noModel.length === 2 || undefined;
  }, 'the second message answered without a model');

  // Destroyed as the reply says (saved first), alice's next claim starts a host that reads the key.
  await bh.destroy(first.instance.id);
  const second = await bh.claim('alice', 'nanoclaw');
  expect(second.instance.id).not.toBe(first.instance.id);
  model.on('after-the-key', () => [{ type: 'text', text: 'Now I can answer' }]);
  const again = chatOf(second.endpoints);
  await again.post('main', 'after-the-key: there?');
  expect(await again.reply('main', (text) => text === 'Now I can answer', 120_000)).toBeDefined();
}, 300_000);
