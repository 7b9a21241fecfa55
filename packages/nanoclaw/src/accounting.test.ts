/**
 * Issue 17 end to end, with the real agent image, Agent SDK and CLI against the scripted model server
 * (reached only through the host's model proxy): usage counted from the model's answers, a limit that
 * starts no agent until its period ends (the host's clock moved a day on, not waited for), and who may
 * talk to the assistant (held for /approve, dropped by /deny, ignored, listed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MessagesRequest,
  type ModelServer,
  type ScriptedReply,
  startModelServer,
} from '../../nanoclaw-agent/src/testing/model-server.ts';
import { toolResults, userPrompts } from '../../nanoclaw-agent/src/testing/requests.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { type Nanoclaw, startNanoclaw } from './nanoclaw.ts';
import { ChatClient, removeAgentContainersOf, until } from './testing/e2e-host.ts';
import { tempHome } from './testing/temp-home.ts';

const DAY_MS = 86_400_000;
const allPrompts = (requests: MessagesRequest[]) =>
  requests.flatMap((request) => userPrompts(request)).join('\n');

/** Replies by marker in the newest prompt; a `tool-` marker runs Bash first. */
function respond(request: MessagesRequest): ScriptedReply {
  const prompt = userPrompts(request).at(-1) ?? '';
  const marker = /\b([a-z]+-[a-z]+-asks|usage-[a-z]+|limit-[a-z]+)\b/.exec(prompt)?.[1] ?? 'unknown';
  if (marker.startsWith('usage-tool') && toolResults(request).length === 0) {
    return [{ type: 'tool_use', name: 'Bash', input: { command: 'echo counted', description: 'count' } }];
  }
  return [{ type: 'text', text: `answer to ${marker}` }];
}

let model: ModelServer;
beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', 'nanoclaw-agent:latest'], { stdio: 'ignore' });
  model = await startModelServer(respond, { host: '127.0.0.1' });
});
afterAll(async () => {
  await model?.close();
});

interface Host {
  nanoclaw: Nanoclaw;
  chat: ChatClient;
  home: Awaited<ReturnType<typeof tempHome>>;
  /** Moves the host's clock (usage days, limits) on. */
  advance(ms: number): void;
  stop(): Promise<void>;
}

async function startHost(env: Record<string, string>, groups: Record<string, unknown> = {}): Promise<Host> {
  const home = await tempHome('nanoclaw-accounting-');
  mkdirSync(join(home.path, 'data'), { recursive: true });
  writeFileSync(
    join(home.path, 'data', 'registered_groups.json'),
    JSON.stringify({
      'web:main': { name: 'Main', folder: 'main', addedAt: '2026-01-01T00:00:00Z' },
      ...groups,
    }),
  );
  let offset = 0;
  const nanoclaw = await startNanoclaw(
    loadConfig({
      NANOCLAW_HOME: home.path,
      NANOCLAW_PORT: '0',
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: 'sk-ant-accounting-test',
      TZ: 'UTC',
      IDLE_TIMEOUT: '60000',
      CONTAINER_TIMEOUT: '120000',
      NANOCLAW_PREWARM: 'false',
      ...env,
    }),
    {
      log: createLogger({ write: () => undefined, level: 'error', format: 'json' }),
      now: () => Date.now() + offset,
    },
  );
  return {
    nanoclaw,
    home,
    chat: new ChatClient(() => nanoclaw.url),
    advance: (ms) => {
      offset += ms;
    },
    stop: async () => {
      await nanoclaw.stop();
      await removeAgentContainersOf(home.path);
      await home.remove();
    },
  };
}

const runLogs = (host: Host, folder: string) => {
  try {
    return readdirSync(join(host.home.path, 'groups', folder, 'logs')).filter((name) =>
      name.startsWith('container-'),
    );
  } catch {
    return [];
  }
};

describe('usage and senders', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost(
      {},
      {
        'web:club': {
          name: 'Club',
          folder: 'club',
          addedAt: '2026-01-01T00:00:00Z',
          senders: { policy: 'list', allowed: ['web:Alice'], unknown: 'held' },
        },
        'web:quiet': {
          name: 'Quiet',
          folder: 'quiet',
          addedAt: '2026-01-01T00:00:00Z',
          senders: { policy: 'list', allowed: ['web:Alice'], unknown: 'ignored' },
        },
      },
    );
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('counts what the model server reported, across streamed and tool-use turns, at /health, /api/usage and /usage', async () => {
    const { chat, nanoclaw } = host;
    await chat.post('main', 'usage-tool please');
    await chat.reply('main', (text) => text === 'answer to usage-tool');
    await chat.post('main', 'usage-plain please');
    await chat.reply('main', (text) => text === 'answer to usage-plain');
    expect(model.requests.some((request) => toolResults(request).length > 0)).toBe(true);
    const reported = () => ({
      requests: model.usage.length,
      errors: 0,
      input_tokens: model.usage.reduce((sum, usage) => sum + usage.input_tokens, 0),
      output_tokens: model.usage.reduce((sum, usage) => sum + usage.output_tokens, 0),
      cache_creation_tokens: model.usage.reduce((sum, usage) => sum + usage.cache_creation_input_tokens, 0),
      cache_read_tokens: model.usage.reduce((sum, usage) => sum + usage.cache_read_input_tokens, 0),
    });
    const health = await until(async () => {
      const body = (await (await fetch(`${nanoclaw.url}/health`)).json()) as {
        usage: { today: Record<string, number> };
      };
      const { total_tokens: _total, ...today } = body.usage.today;
      return JSON.stringify(today) === JSON.stringify(reported()) ? body : undefined;
    }, 'the usage at /health to equal what the model server reported');
    expect(health.usage.today.total_tokens).toBeGreaterThan(0);
    const route = (await (await fetch(`${nanoclaw.url}/api/usage?days=2`)).json()) as {
      days: Array<{ group: string; requests: number }>;
    };
    expect(route.days).toEqual([expect.objectContaining({ group: 'main', requests: model.usage.length })]);
    await chat.post('main', '/usage');
    const text = await chat.reply('main', (reply) => reply.startsWith('Model usage'));
    expect(text).toContain(
      `Today (${new Date().toISOString().slice(0, 10)}): ${model.usage.length} requests (0 failed)`,
    );
  });

  it("holds a stranger's message until /approve, drops one on /deny, ignores where told, lets a listed sender through", async () => {
    const { chat } = host;
    await chat.post('club', '@Andy stranger-one-asks', 'Stranger');
    const notice = await chat.reply(
      'main',
      (text) => text.startsWith('Held a message') && text.includes('stranger-one-asks'),
    );
    const id = /\/approve (\d+)/.exec(notice)?.[1];
    await chat.post('club', '@Andy mallory-one-asks', 'Mallory');
    const malloryNotice = await chat.reply('main', (text) => text.includes('mallory-one-asks'));
    const malloryId = /\/deny (\d+)/.exec(malloryNotice)?.[1];
    await chat.post('quiet', '@Andy eve-one-asks', 'Eve');
    // A listed sender passes; what was held or ignored is not even context for its turn.
    await chat.post('club', '@Andy alice-club-asks', 'Alice');
    await chat.reply('club', (text) => text === 'answer to alice-club-asks');
    await chat.post('quiet', '@Andy alice-quiet-asks', 'Alice');
    await chat.reply('quiet', (text) => text === 'answer to alice-quiet-asks');
    expect(allPrompts(model.requests)).not.toMatch(/stranger-one-asks|mallory-one-asks|eve-one-asks/);
    await chat.post('main', '/held');
    const held = await chat.reply('main', (text) => text.startsWith('Held messages'));
    expect(held).toContain(`#${id} in Club (web:club) from Stranger (web:Stranger)`);
    expect(held).not.toContain('eve-one-asks');

    await chat.post('main', `/deny ${malloryId}`);
    await chat.reply('main', (text) => text.startsWith('Dropped 1 message from Mallory'));
    await chat.post('main', `/approve ${id}`);
    await chat.reply('main', (text) => text.startsWith('Approved Stranger (web:Stranger) in Club'));
    await chat.reply('club', (text) => text === 'answer to stranger-one-asks');
    // Listed now: the stranger's next message goes straight through.
    await chat.post('club', '@Andy stranger-two-asks', 'Stranger');
    await chat.reply('club', (text) => text === 'answer to stranger-two-asks');
    expect(allPrompts(model.requests)).not.toMatch(/mallory-one-asks|eve-one-asks/);
    await chat.post('main', '/held');
    await chat.reply('main', (text) => text === 'No messages are held.');
  });
});

describe('a usage limit', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost({ NANOCLAW_GROUP_LIMIT_DAY_REQUESTS: '1' });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('is said once, starts no agent, and the next day answers again', async () => {
    const { chat } = host;
    await chat.post('main', 'limit-first');
    await chat.reply('main', (text) => text === 'answer to limit-first');
    const containers = runLogs(host, 'main').length;
    const requests = model.requests.length;
    await chat.post('main', 'limit-second');
    const notice = await chat.reply('main', (text) => text.startsWith('I have reached'));
    expect(notice).toMatch(
      /this chat's daily limit of 1 model requests \(\d+ used\), so I will not answer until it resets/,
    );
    await chat.post('main', 'limit-third');
    // A command is answered without an agent, after the message before it was looked at.
    await chat.post('main', '/usage');
    await chat.reply('main', (text) => text.startsWith('Model usage'));
    const replies = await chat.replies('main');
    expect(replies.filter((text) => text.startsWith('I have reached'))).toHaveLength(1);
    expect(replies.some((text) => text.includes('limit-third'))).toBe(false);
    expect(runLogs(host, 'main')).toHaveLength(containers);
    expect(model.requests.length).toBe(requests);

    host.advance(DAY_MS);
    await chat.post('main', 'limit-fourth');
    await chat.reply('main', (text) => text === 'answer to limit-fourth');
  });
});
