import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { tempHome } from '../testing/temp-home.ts';
import { noModelReply } from './no-model-reply.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
beforeEach(async () => {
  home = await tempHome();
});
afterEach(() => home.remove());

test('on its own, the reply names the .env to edit and the restart', () => {
  const reply = noModelReply(loadConfig({ NANOCLAW_HOME: home.path }));
  expect(reply).toContain(`in ${home.path}/.env or the environment, then restart NanoClaw`);
  expect(reply).not.toContain('bh ');
});

test("under Boilerhouse, the reply names the operator's commands for this tenant, workload and instance", () => {
  const config = loadConfig({
    NANOCLAW_HOME: home.path,
    BOILERHOUSE_TENANT: 'alice@example.com',
    BOILERHOUSE_INSTANCE: 'nanoclaw-steady-3f2a9c01de',
  });
  const reply = noModelReply(config);
  expect(reply).toContain('`bh secrets set alice@example.com --workload nanoclaw-steady ANTHROPIC_API_KEY`');
  expect(reply).toContain('`bh instances destroy nanoclaw-steady-3f2a9c01de`');
  expect(reply).not.toContain('.env');
  expect(reply).not.toContain('restart NanoClaw');
});

test('an endpoint without a key is said in both', () => {
  for (const env of [{}, { BOILERHOUSE_TENANT: 'alice', BOILERHOUSE_INSTANCE: 'nanoclaw-3f2a9c01de' }]) {
    const config = loadConfig({ NANOCLAW_HOME: home.path, ANTHROPIC_BASE_URL: 'http://model.test', ...env });
    expect(noModelReply(config)).toContain('ANTHROPIC_BASE_URL is set, but a key or token is still needed');
  }
});

test('an instance id not in the form Boilerhouse makes leaves the workload to the operator', () => {
  const config = loadConfig({
    NANOCLAW_HOME: home.path,
    BOILERHOUSE_TENANT: 'alice',
    BOILERHOUSE_INSTANCE: 'x',
  });
  expect(noModelReply(config)).toContain('`bh secrets set alice --workload <workload> ANTHROPIC_API_KEY`');
});
