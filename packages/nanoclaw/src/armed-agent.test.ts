/**
 * NANOCLAW_ARM_AT_START (issue 19): at start the main group's agent is armed (its container and SDK started
 * on the group's session before any message) and the first message is answered by it as a follow-up; an
 * armed agent that gets no message ends quietly. A real host, the real agent image and the scripted model.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServer, startModelServer } from '../../nanoclaw-agent/src/testing/model-server.ts';
import { lastUserText } from '../../nanoclaw-agent/src/testing/requests.ts';
import { dockerClient, LABELS } from './agent/docker.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { type Nanoclaw, startNanoclaw } from './nanoclaw.ts';
import { ChatClient, removeAgentContainersOf, until } from './testing/e2e-host.ts';
import { tempHome } from './testing/temp-home.ts';

let model: ModelServer;
let home: Awaited<ReturnType<typeof tempHome>> | undefined;
let nanoclaw: Nanoclaw | undefined;
const logLines: string[] = [];

beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', 'nanoclaw-agent:latest'], { stdio: 'ignore' });
  model = await startModelServer(
    (request) => [{ type: 'text', text: `re: ${/\w+ question/.exec(lastUserText(request))?.[0]}` }],
    { host: '127.0.0.1' },
  );
  return () => model.close();
});

afterEach(async () => {
  await nanoclaw?.stop();
  if (home !== undefined) {
    await removeAgentContainersOf(home.path);
    await home.remove();
  }
  nanoclaw = undefined;
  home = undefined;
});

async function start(idleTimeoutMs: number): Promise<{ chat: ChatClient; home: string }> {
  home = await tempHome('nanoclaw-armed-');
  const config = loadConfig({
    NANOCLAW_HOME: home.path,
    NANOCLAW_PORT: '0',
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-ant-armed-test',
    TZ: 'UTC',
    IDLE_TIMEOUT: String(idleTimeoutMs),
    NANOCLAW_ARM_AT_START: 'true',
    NANOCLAW_PREWARM: 'false',
  });
  nanoclaw = await startNanoclaw(config, {
    log: createLogger({ write: (line) => logLines.push(line), level: 'debug', format: 'json' }),
  });
  const running = nanoclaw;
  return { chat: new ChatClient(() => running.url), home: home.path };
}

/** The text of the main group's run logs (one file per agent container). */
function runLogs(homePath: string): string[] {
  const dir = join(homePath, 'groups', 'main', 'logs');
  return readdirSync(dir)
    .filter((name) => name.startsWith('container-'))
    .map((name) => readFileSync(join(dir, name), 'utf8'));
}

const hostIdOf = (homePath: string) => readFileSync(join(homePath, 'data', 'host_id'), 'utf8').trim();

describe('the main agent armed at start', () => {
  it('is up on its session before any message, and answers the first and the next as follow-ups', async () => {
    const { chat, home: homePath } = await start(60_000);
    const requestsAtStart = model.requests.length;
    await until(() => runLogs(homePath).some((log) => log.includes('SDK up in')), 'the armed SDK', 90_000);
    expect(runLogs(homePath)[0]).toContain('armed (no prompt yet)');
    expect(model.requests.length).toBe(requestsAtStart);

    await chat.post('main', '@Andy first question');
    await chat.reply('main', (text) => text === 're: first question');
    await chat.post('main', '@Andy second question');
    await chat.reply('main', (text) => text === 're: second question');
    // One container answered both: the one armed at start.
    expect(runLogs(homePath)).toHaveLength(1);
    const engine = dockerClient(undefined);
    expect(await engine.listContainers([`${LABELS.host}=${hostIdOf(homePath)}`], false)).toHaveLength(1);
  });

  it('ends quietly when idle with no message, and asks nothing of the model', async () => {
    const { chat, home: homePath } = await start(1_000);
    const requestsAtStart = model.requests.length;
    await until(
      () => runLogs(homePath).some((log) => log.includes('[host] ended')),
      'the armed run to end',
      90_000,
    );
    expect(runLogs(homePath)[0]).toContain('closing: idle for 1000 ms');
    expect(await chat.messages('main')).toEqual([]);
    expect(model.requests.length).toBe(requestsAtStart);
  });
});
