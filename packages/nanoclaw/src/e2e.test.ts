/**
 * End to end: a real host (in this process, and as a child process for the crash test), the real agent
 * image on the Docker engine, the real Agent SDK inside it, and the scripted model server on loopback,
 * which agents reach only through the host's model proxy. Chats go through the web chat's JSON API.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MessagesRequest,
  type ModelServer,
  type ScriptedReply,
  startModelServer,
} from '../../nanoclaw-agent/src/testing/model-server.ts';
import {
  lastUserText,
  toolResults,
  toolResultText,
  userPrompts,
} from '../../nanoclaw-agent/src/testing/requests.ts';
import { LABELS } from './agent/docker.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { type Nanoclaw, startNanoclaw } from './nanoclaw.ts';
import { ChatClient, removeAgentContainersOf, spawnHost, until } from './testing/e2e-host.ts';
import { tempHome } from './testing/temp-home.ts';

/** Per marker word in the newest user text: the reply; and after a tool ran, the follow-up reply. */
type Script = (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply> | undefined;
const scripts: Script[] = [];
const respond = async (request: MessagesRequest): Promise<ScriptedReply> => {
  for (const script of scripts) {
    const reply = await script(request);
    if (reply !== undefined) return reply;
  }
  return [{ type: 'text', text: `no script for: ${lastUserText(request).slice(-200)}` }];
};
/** Answers the turn whose newest text contains `marker`; `after` answers once the tools it called ran. */
function on(
  marker: string,
  first: () => ScriptedReply | Promise<ScriptedReply>,
  after?: (results: string[]) => ScriptedReply,
) {
  scripts.push((request) => {
    const results = toolResults(request);
    const lastPrompt = userPrompts(request).at(-1) ?? '';
    if (!lastPrompt.includes(marker)) return undefined;
    if (results.length > 0) return after?.(results.map(toolResultText)) ?? [{ type: 'text', text: 'done' }];
    return first();
  });
}

/** The operator's model key: only the host and the model server may ever see it. */
const MODEL_KEY = `sk-ant-e2e-${randomBytes(12).toString('hex')}`;
let model: ModelServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
const logLines: string[] = [];
const chat = new ChatClient(() => nanoclaw.url);

function hostConfig(homePath: string) {
  return loadConfig({
    NANOCLAW_HOME: homePath,
    NANOCLAW_PORT: '0',
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: MODEL_KEY,
    TZ: 'UTC',
    IDLE_TIMEOUT: '60000',
    CONTAINER_TIMEOUT: '120000',
    NANOCLAW_RETRY_BASE_MS: '500',
  });
}

/** The status the model proxy on `socket` answers a small request with `token` as its key. */
function proxyStatus(socket: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        socketPath: socket,
        path: '/v1/messages',
        method: 'POST',
        headers: { 'x-api-key': token, 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(
      JSON.stringify({ model: 'claude-test', max_tokens: 8, messages: [{ role: 'user', content: 'probe' }] }),
    );
  });
}

const state = () => JSON.parse(readFileSync(join(home.path, 'data', 'state.json'), 'utf8'));
const runLogs = (folder: string) =>
  readdirSync(join(home.path, 'groups', folder, 'logs')).filter((name) => name.startsWith('container-'));

beforeAll(async () => {
  execFileSync('docker', ['image', 'inspect', 'nanoclaw-agent:latest'], { stdio: 'ignore' });
  model = await startModelServer(respond, { host: '127.0.0.1' });
  home = await tempHome('nanoclaw-e2e-');
  nanoclaw = await startNanoclaw(hostConfig(home.path), {
    log: createLogger({ write: (line) => logLines.push(line), level: 'debug', format: 'json' }),
  });
});

afterAll(async () => {
  await nanoclaw?.stop();
  await removeAgentContainersOf(home.path);
  await model?.close();
  await home?.remove();
});

describe('NanoClaw end to end', () => {
  it('answers a chat message through an agent container, and keeps the session', async () => {
    on('hello e2e', () => [{ type: 'text', text: 'Hello from the scripted model' }]);
    await chat.post('main', 'hello e2e');
    expect(await chat.reply('main', (text) => text === 'Hello from the scripted model')).toBeDefined();
    expect(state().sessions.main).toMatch(/^[0-9a-f-]{36}$/);
    expect(state().cursors['web:main']).toBeGreaterThan(0);
    const log = readFileSync(join(home.path, 'groups', 'main', 'logs', runLogs('main')[0] as string), 'utf8');
    expect(log).toContain('[host] group main (main), chat web:main, messages');
    expect(log).not.toContain(MODEL_KEY);
  });

  it('delivers a message sent during a run to the running container', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstSeen = false;
    on('first-long', async () => {
      firstSeen = true;
      await held;
      return [{ type: 'text', text: 'reply one' }];
    });
    on('second-followup', () => [{ type: 'text', text: 'reply two' }]);
    await chat.post('main', 'first-long');
    await until(() => firstSeen || undefined, 'the first turn to reach the model');
    const containersDuringRun = runLogs('main').length;
    await chat.post('main', 'second-followup');
    release();
    await chat.reply('main', (text) => text === 'reply two');
    const replies = await chat.replies('main');
    expect(replies.indexOf('reply one')).toBeLessThan(replies.indexOf('reply two'));
    // The follow-up was answered by the container already running: no new one was started for it.
    expect(runLogs('main')).toHaveLength(containersDuringRun);
    const followUp = model.requests.find((request) =>
      (userPrompts(request).at(-1) ?? '').includes('second-followup'),
    );
    expect(userPrompts(followUp as MessagesRequest).some((prompt) => prompt.includes('first-long'))).toBe(
      true,
    );
  });

  it('runs Bash inside the agent container and writes group memory', async () => {
    on(
      'remember-green',
      () => [
        {
          type: 'tool_use',
          name: 'Bash',
          input: {
            command: 'echo "- favourite colour: green" >> /workspace/group/CLAUDE.md && hostname && id -u',
            description: 'remember the colour',
          },
        },
      ],
      (results) => [{ type: 'text', text: `ran in: ${results.join(' ').trim().replace(/\s+/g, ' ')}` }],
    );
    await chat.post('main', 'remember-green');
    const reply = await chat.reply('main', (text) => text.startsWith('ran in:'));
    const [, where, uid] = reply.split(' ').slice(1);
    expect(where).not.toBe(hostname());
    expect(uid ?? reply).toContain('1000');
    expect(readFileSync(join(home.path, 'groups', 'main', 'CLAUDE.md'), 'utf8')).toContain(
      '- favourite colour: green',
    );
  });

  it('lets main register a group, which then answers when triggered', async () => {
    on(
      'register-family',
      () => [
        {
          type: 'tool_use',
          name: 'mcp__nanoclaw__register_group',
          input: { jid: 'web:family', name: 'Family', folder: 'family' },
        },
      ],
      () => [{ type: 'text', text: 'Family is registered' }],
    );
    on('hi family', () => [{ type: 'text', text: 'hello, family' }]);
    await chat.post('main', 'register-family');
    await chat.reply('main', (text) => text === 'Family is registered');
    const groups = JSON.parse(readFileSync(join(home.path, 'data', 'registered_groups.json'), 'utf8'));
    expect(groups['web:family']).toMatchObject({ name: 'Family', folder: 'family' });
    await chat.post('family', 'chatter without the trigger');
    await chat.post('family', '@Andy hi family');
    expect(await chat.reply('family', (text) => text === 'hello, family')).toBeDefined();
    // The untriggered message went along as context.
    const request = model.requests.find((candidate) =>
      (userPrompts(candidate).at(-1) ?? '').includes('hi family'),
    );
    expect(userPrompts(request as MessagesRequest).at(-1)).toContain('chatter without the trigger');
  });

  it("refuses a non-main group's attempt to message another chat or schedule for another group", async () => {
    on(
      'sneaky-family',
      () => [
        {
          type: 'tool_use',
          name: 'mcp__nanoclaw__send_message',
          input: { text: 'leaked into main', chat_jid: 'web:main' },
        },
        {
          type: 'tool_use',
          name: 'mcp__nanoclaw__schedule_task',
          input: {
            prompt: 'nag main',
            schedule_type: 'interval',
            schedule_value: '60000',
            target_jid: 'web:main',
          },
        },
      ],
      () => [{ type: 'text', text: 'tried both' }],
    );
    await chat.post('family', '@Andy sneaky-family');
    await chat.reply('family', (text) => text === 'tried both');
    await until(
      () =>
        logLines.filter((line) => line.includes('IPC request refused') && line.includes('"group":"family"'))
          .length >= 2 || undefined,
      'both refusals',
    );
    expect(await chat.replies('main')).not.toContain('leaked into main');
    const refusals = logLines
      .filter((line) => line.includes('IPC request refused'))
      .map((line) => JSON.parse(line).reason);
    expect(refusals).toEqual(
      expect.arrayContaining([
        'group family may only message its own chat',
        'group family may only schedule tasks for its own chat',
      ]),
    );
  });

  it('keeps the model key out of the agent: its environment, processes, files, config, inspect and logs', async () => {
    // The key, split so that neither the script nor the session transcript holds it whole.
    const [head, tail] = [MODEL_KEY.slice(0, 10), MODEL_KEY.slice(10)];
    const hunt = [
      'env',
      "echo ---procs; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n'",
      // -l names each file holding the key; unreadable files (e.g. /root) are skipped silently.
      `echo ---files; echo "files holding the key: [$(grep -rIlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "$(printf '%s%s' '${head}' '${tail}')" /)]"`,
      'echo ---config; find /home/node/.claude -maxdepth 2 -type f -name "*.json" -exec cat {} +',
    ].join('; ');
    const inspected: string[] = [];
    on(
      'leak-hunt',
      async () => {
        // Every agent container of this host now: the run's, and any started ahead of need.
        const docker = new Docker();
        const hostId = readFileSync(join(home.path, 'data', 'host_id'), 'utf8').trim();
        const running = await docker.listContainers({ filters: { label: [`${LABELS.host}=${hostId}`] } });
        for (const container of running)
          inspected.push(JSON.stringify(await docker.getContainer(container.Id).inspect()));
        return [
          { type: 'tool_use', name: 'Bash', input: { command: hunt, description: 'hunt for the key' } },
        ];
      },
      () => [{ type: 'text', text: 'hunt over' }],
    );
    const requestsBefore = model.received.length;
    await chat.post('main', 'leak-hunt');
    await chat.reply('main', (text) => text === 'hunt over');
    const hunted = model.requests.find(
      (candidate) =>
        toolResults(candidate).length > 0 && (userPrompts(candidate).at(-1) ?? '').includes('leak-hunt'),
    );
    const output = toolResults(hunted as MessagesRequest)
      .map(toolResultText)
      .join('\n');
    // What the agent could see: its proxy's loopback address and a run token, nothing of the key.
    expect(output).toMatch(/^ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:\d+$/m);
    const token = /^ANTHROPIC_API_KEY=(\S+)$/m.exec(output)?.[1] as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(output).toContain('---procs');
    expect(output).toContain('files holding the key: []');
    expect(output).toContain('---config');
    expect(output).not.toContain(MODEL_KEY);
    expect(inspected.length).toBeGreaterThan(0);
    for (const container of inspected) expect(container).not.toContain(MODEL_KEY);
    for (const name of runLogs('main'))
      expect(readFileSync(join(home.path, 'groups', 'main', 'logs', name), 'utf8')).not.toContain(MODEL_KEY);
    // Every model request of the run came through the proxy, which alone put the key on.
    const messages = model.received.slice(requestsBefore).filter((seen) => seen.path === '/v1/messages');
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const seen of messages) expect(seen.headers['x-api-key']).toBe(MODEL_KEY);

    // The run's token: good on its group's socket while the run lasts, never on another's, dead after.
    const socket = (group: string) => join(home.path, 'data', 'model', group, 'model.sock');
    expect(await proxyStatus(socket('main'), token)).toBe(200);
    expect(await proxyStatus(socket('family'), token)).toBe(401);
    expect(await proxyStatus(socket('main'), 'x'.repeat(43))).toBe(401);
    const input = join(home.path, 'data', 'ipc', 'main', 'input');
    writeFileSync(join(input, '_close.tmp'), '');
    renameSync(join(input, '_close.tmp'), join(input, '_close'));
    await until(
      async () => (await proxyStatus(socket('main'), token)) === 401 || undefined,
      'the token to end with its run',
    );
  });

  it('lets the agent schedule a task that fires and posts into the chat', async () => {
    on(
      'schedule-tick',
      () => [
        {
          type: 'tool_use',
          name: 'mcp__nanoclaw__schedule_task',
          input: {
            prompt: 'TASK-TICK: say tick',
            schedule_type: 'once',
            schedule_value: new Date(Date.now() + 3000).toISOString(),
          },
        },
      ],
      () => [{ type: 'text', text: 'Scheduled the tick' }],
    );
    on('TASK-TICK', () => [{ type: 'text', text: 'tick from the scheduled task' }]);
    await chat.post('main', 'schedule-tick');
    await chat.reply('main', (text) => text === 'Scheduled the tick');
    await chat.reply('main', (text) => text === 'tick from the scheduled task');
    const tasks = JSON.parse(
      readFileSync(join(home.path, 'data', 'ipc', 'main', 'current_tasks.json'), 'utf8'),
    );
    const tick = await until(() => {
      const current = JSON.parse(
        readFileSync(join(home.path, 'data', 'ipc', 'main', 'current_tasks.json'), 'utf8'),
      );
      const task = current.find(
        (candidate: { prompt: string }) => candidate.prompt === 'TASK-TICK: say tick',
      );
      return task?.recent_runs?.[0]?.status === 'success' ? task : undefined;
    }, 'the run log');
    expect(tasks.length).toBeGreaterThan(0);
    expect(tick).toMatchObject({
      status: 'completed',
      next_run: null,
      last_result: 'tick from the scheduled task',
    });
    expect(tick.recent_runs[0].duration_ms).toBeGreaterThan(0);
  });

  it('/clear archives the session and the next message starts a fresh one', async () => {
    on('before-clear', () => [{ type: 'text', text: 'noted before clear' }]);
    on('after-clear', (): ScriptedReply => [{ type: 'text', text: 'fresh turns: 1' }]);
    await chat.post('main', 'before-clear');
    await chat.reply('main', (text) => text === 'noted before clear');
    const before = state().sessions.main as string;
    await chat.post('main', '/clear');
    await chat.reply('main', (text) =>
      text.startsWith('Starting fresh: the conversation so far is archived'),
    );
    expect(state().sessions.main).toBeUndefined();
    expect(state().archivedSessions).toContainEqual(
      expect.objectContaining({ folder: 'main', sessionId: before }),
    );
    await chat.post('main', 'after-clear');
    await chat.reply('main', (text) => text === 'fresh turns: 1');
    const request = model.requests.findLast((candidate) =>
      (userPrompts(candidate).at(-1) ?? '').includes('after-clear'),
    );
    expect(userPrompts(request as MessagesRequest)).toHaveLength(1);
    expect(state().sessions.main).not.toBe(before);
    expect(readFileSync(join(home.path, 'groups', 'main', 'CLAUDE.md'), 'utf8')).toContain(
      'favourite colour: green',
    );
  });
});

describe('NanoClaw killed mid-run', () => {
  it('gives neither a duplicate nor a lost reply after a restart', async () => {
    const crashHome = await tempHome('nanoclaw-crash-');
    const env = {
      NANOCLAW_HOME: crashHome.path,
      NANOCLAW_PORT: '0',
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: MODEL_KEY,
      IDLE_TIMEOUT: '60000',
    };
    let calls = 0;
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    on('crash-me', async () => {
      calls++;
      if (calls === 1) {
        await firstHeld;
        return [{ type: 'text', text: 'answer from the killed run' }];
      }
      return [{ type: 'text', text: 'answer after the restart' }];
    });
    let host = await spawnHost(env);
    try {
      const client = new ChatClient(() => host.url);
      await client.post('main', 'crash-me');
      await until(() => calls === 1 || undefined, 'the run to reach the model');
      host.child.kill('SIGKILL');
      await new Promise((resolve) => host.child.once('exit', resolve));
      // The orphaned container may now get its answer; no host reads it.
      releaseFirst();
      host = await spawnHost(env);
      await client.reply('main', (text) => text === 'answer after the restart');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const replies = await client.replies('main');
      expect(replies).toEqual(['answer after the restart']);
      expect(
        host.lines.some((line) => line.includes('removed agent containers left by the previous run')),
      ).toBe(true);
    } finally {
      host.child.kill('SIGTERM');
      await new Promise((resolve) => host.child.once('exit', resolve));
      await removeAgentContainersOf(crashHome.path);
      await crashHome.remove();
    }
  });
});
