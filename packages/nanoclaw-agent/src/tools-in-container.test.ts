/**
 * The agent's tools in the real image, driven by scripted tool_use: the nanoclaw MCP tools write their
 * IPC files, Bash runs inside the container, and the CLAUDE.md hierarchy reaches the model.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { type AgentDirs, startAgentContainer } from './testing/agent-container.ts';
import { useAgentFixture } from './testing/agent-fixture.ts';
import { answerRequests } from './testing/host-answers.ts';
import type { Responder, ScriptedBlock } from './testing/model-server.ts';
import { allText, systemText, toolNames, toolResults, toolResultText } from './testing/requests.ts';

const agent = useAgentFixture();

function input(dirs: AgentDirs, chatJid: string, isMain: boolean, prompt: string) {
  const group = isMain ? 'main' : 'family';
  return {
    prompt,
    sessionId: null,
    group,
    chatJid,
    isMain,
    isScheduledTask: false,
    assistantName: 'Andy',
    modelToken: agent.token(dirs),
  };
}

/**
 * Plays one tool call per model request, in order, then a closing text; records what each call returned
 * to the model.
 */
function playToolCalls(calls: ScriptedBlock[], results: string[]): Responder {
  let next = 0;
  return (request) => {
    const answered = toolResults(request);
    if (answered.length > 0) results.push(...answered.map(toolResultText));
    const call = calls[next++];
    return call ? [call] : [{ type: 'text', text: 'all done' }];
  };
}

async function readRequests(dir: string): Promise<unknown[]> {
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8'))));
}

test("each nanoclaw tool, called by the model, writes its request into the IPC directory and hears the host's answer", async () => {
  const dirs = await agent.dirsFor('main');
  const stopAnswering = answerRequests(dirs.ipc, () => (request) => {
    if (request.type === 'schedule_task') return { status: 'accepted', taskId: 'task-2' };
    if (request.type === 'pause_task') return { status: 'refused', reason: 'task task-1 is paused already' };
    return { status: 'accepted' };
  });
  await writeFile(
    join(dirs.ipc, 'current_tasks.json'),
    JSON.stringify([
      {
        id: 'task-1',
        groupFolder: 'main',
        chatJid: 'web:main',
        prompt: 'Water the plants',
        schedule_type: 'cron',
        schedule_value: '0 9 * * *',
        context_mode: 'isolated',
        status: 'active',
        next_run: '2026-11-22T09:00:00.000Z',
        last_run: null,
        last_result: null,
        recent_runs: [],
      },
    ]),
  );
  const tool = (name: string, input: Record<string, unknown>): ScriptedBlock => ({
    type: 'tool_use',
    name: `mcp__nanoclaw__${name}`,
    input,
  });
  const results: string[] = [];
  agent.respond = playToolCalls(
    [
      tool('send_message', { text: 'working on it' }),
      tool('schedule_task', {
        prompt: 'Say good morning',
        schedule_type: 'cron',
        schedule_value: '0 8 * * *',
      }),
      tool('list_tasks', {}),
      tool('get_task', { task_id: 'task-1' }),
      tool('update_task', { task_id: 'task-1', prompt: 'Water the plants and herbs' }),
      tool('pause_task', { task_id: 'task-1' }),
      tool('resume_task', { task_id: 'task-1' }),
      tool('cancel_task', { task_id: 'task-1' }),
      tool('register_group', { jid: 'tg:-100200', name: 'Family', folder: 'family' }),
    ],
    results,
  );
  const run = startAgentContainer({
    input: input(dirs, 'web:main', true, 'do everything'),
    dirs,
    env: {},
    globalWritable: true,
  });
  const [reply] = await run.waitForFrames(1);
  await run.close();
  expect(await run.exited).toBe(0);
  await stopAnswering();
  expect(reply).toMatchObject({ status: 'success', result: 'all done' });

  const offered = toolNames(agent.server.requests[0] ?? { model: '', messages: [] }).filter((name) =>
    name.startsWith('mcp__nanoclaw__'),
  );
  expect(offered.sort()).toEqual(
    [
      'cancel_task',
      'get_task',
      'list_tasks',
      'pause_task',
      'register_group',
      'resume_task',
      'schedule_task',
      'send_file',
      'send_message',
      'update_task',
    ].map((name) => `mcp__nanoclaw__${name}`),
  );
  expect(results).toHaveLength(9);
  expect(results[0]).toBe('Message sent.');
  expect(results[1]).toBe('Scheduled task task-2: cron 0 8 * * *.');
  expect(results[2]).toContain('- task-1 [active] cron 0 9 * * *');
  expect(results[3]).toContain('prompt: Water the plants');
  expect(results[5]).toContain('The host refused this request: task task-1 is paused already');
  expect(results[8]).toBe('Registered "Family" as family.');
  expect(await readRequests(join(dirs.ipc, 'messages'))).toEqual([
    { type: 'message', chatJid: 'web:main', text: 'working on it' },
  ]);
  expect(await readRequests(join(dirs.ipc, 'tasks'))).toEqual([
    { type: 'schedule_task', prompt: 'Say good morning', schedule_type: 'cron', schedule_value: '0 8 * * *' },
    { type: 'update_task', taskId: 'task-1', prompt: 'Water the plants and herbs' },
    { type: 'pause_task', taskId: 'task-1' },
    { type: 'resume_task', taskId: 'task-1' },
    { type: 'cancel_task', taskId: 'task-1' },
    { type: 'register_group', jid: 'tg:-100200', name: 'Family', folder: 'family' },
  ]);
});

test("a non-main group is not offered register_group, and the model's Bash runs inside the container", async () => {
  const dirs = await agent.dirsFor('family');
  const results: string[] = [];
  agent.respond = playToolCalls(
    [
      {
        type: 'tool_use',
        name: 'Bash',
        input: {
          command:
            'hostname > /workspace/group/where.txt; id -u >> /workspace/group/where.txt; touch /workspace/global/CLAUDE.md 2>&1 || true',
          description: 'Record where this runs',
        },
      },
    ],
    results,
  );
  const run = startAgentContainer({
    input: input(dirs, 'tg:-100200', false, 'where are you?'),
    dirs,
    env: {},
  });
  await run.waitForFrames(1);
  const containerHostname = await run.hostname();
  await run.close();
  expect(await run.exited).toBe(0);

  const tools = toolNames(agent.server.requests[0] ?? { model: '', messages: [] });
  expect(tools).toContain('mcp__nanoclaw__send_message');
  expect(tools).not.toContain('mcp__nanoclaw__register_group');
  const [where, uid] = (await readFile(join(dirs.group, 'where.txt'), 'utf8')).trim().split('\n');
  expect(where).toBe(containerHostname);
  expect(where).not.toBe(hostname());
  expect(uid).toBe('1000');
  // Global memory is mounted read-only for a group other than main.
  expect(results[0]).toContain('Read-only file system');
});

test('the group and global CLAUDE.md files reach the model, with the assistant named', async () => {
  const dirs = await agent.dirsFor('main');
  await writeFile(join(dirs.global, 'CLAUDE.md'), 'GLOBAL MEMORY: the user prefers tea.\n');
  await writeFile(join(dirs.group, 'CLAUDE.md'), 'GROUP MEMORY: the cat is called Tom.\n');
  agent.respond = () => [{ type: 'text', text: 'noted' }];
  const run = startAgentContainer({
    input: input(dirs, 'web:main', true, 'what do you know?'),
    dirs,
    env: {},
  });
  await run.waitForFrames(1);
  await run.close();
  expect(await run.exited).toBe(0);

  const request = agent.server.requests[0] ?? { model: '', messages: [] };
  expect(allText(request)).toContain('GLOBAL MEMORY: the user prefers tea.');
  expect(allText(request)).toContain('GROUP MEMORY: the cat is called Tom.');
  expect(systemText(request)).toContain('You are Andy, a personal assistant');
});
