/**
 * A run of the real agent image, as the host starts it, against the scripted model server: replies,
 * sessions, follow-ups, closing, and the errors that end a run before it starts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  type AgentContainer,
  type AgentDirs,
  makeAgentDirs,
  removeAgentDirs,
  startAgentContainer,
} from './testing/agent-container.ts';
import { useAgentFixture } from './testing/agent-fixture.ts';
import { PROXY_MODEL_KEY } from './testing/model-proxy.ts';
import { userPrompts } from './testing/requests.ts';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const agent = useAgentFixture();

/** The input for a run on `dirs`, with a live run token of the model proxy. */
function input(dirs: AgentDirs, prompt: string, sessionId: string | null = null) {
  return {
    prompt,
    sessionId,
    group: 'main',
    chatJid: 'web:main',
    isMain: true,
    isScheduledTask: false,
    assistantName: 'Andy',
    modelToken: agent.token(dirs),
  };
}

/** A promise the test opens when it chooses. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/** Waits until the agent has taken (and deleted) every file in input/. */
async function untilInputTaken(dirs: AgentDirs, run: AgentContainer): Promise<void> {
  for (let waited = 0; (await readdir(join(dirs.ipc, 'input'))).length > 0; waited += 20) {
    if (waited > 10_000) throw new Error(`input/ was not emptied; stderr:\n${run.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a prompt gets a framed reply and a session id; the next run resumes that session', async () => {
  agent.respond = (request) => [{ type: 'text', text: `turns so far: ${userPrompts(request).join(' | ')}` }];
  const dirs = await agent.dirsFor('main');

  const first = startAgentContainer({ input: input(dirs, 'my cat is called Tom'), dirs, env: {} });
  const [reply] = await first.waitForFrames(1);
  expect(reply).toEqual({
    status: 'success',
    result: 'turns so far: my cat is called Tom',
    newSessionId: expect.any(String),
  });
  const sessionId = reply?.newSessionId as string;
  expect(sessionId).toMatch(SESSION_ID);
  await first.close();
  expect(await first.exited).toBe(0);

  const second = startAgentContainer({
    input: input(dirs, "what is my cat's name?", sessionId),
    dirs,
    env: {},
  });
  const [resumed] = await second.waitForFrames(1);
  expect(resumed).toEqual({
    status: 'success',
    result: "turns so far: my cat is called Tom | what is my cat's name?",
    newSessionId: sessionId,
  });
  await second.close();
  expect(await second.exited).toBe(0);
});

test('a stale session id is detected and the run goes on in a new session; idle, the run ends by itself', async () => {
  agent.respond = (request) => [
    { type: 'text', text: `fresh start with ${userPrompts(request).length} turn(s)` },
  ];
  const stale = '0b7c2a47-1111-4222-8333-944444444444';
  const dirs = await agent.dirsFor('main');
  const run = startAgentContainer({
    input: input(dirs, 'hello again', stale),
    dirs,
    env: { IDLE_TIMEOUT: '1000' },
  });
  const [reply] = await run.waitForFrames(1);
  expect(reply).toMatchObject({ status: 'success', result: 'fresh start with 1 turn(s)' });
  expect(reply?.newSessionId).toMatch(SESSION_ID);
  expect(reply?.newSessionId).not.toBe(stale);
  expect(await run.exited).toBe(0);
  expect(run.stderr).toContain(`session ${stale} is not known to the SDK (stale); starting a new session`);
  expect(run.stderr).toContain('closing: idle for 1000 ms');
});

test('an armed run starts the SDK on its session before any turn, and takes its first turn as a follow-up', async () => {
  agent.respond = (request) => [{ type: 'text', text: `turns so far: ${userPrompts(request).join(' | ')}` }];
  const dirs = await agent.dirsFor('main');
  const first = startAgentContainer({ input: input(dirs, 'my cat is called Tom'), dirs, env: {} });
  const [reply] = await first.waitForFrames(1);
  await first.close();
  expect(await first.exited).toBe(0);

  const requestsBefore = agent.server.requests.length;
  const armed = startAgentContainer({
    input: { ...input(dirs, 'unused', reply?.newSessionId as string), prompt: null },
    dirs,
    env: {},
  });
  for (let waited = 0; !armed.stderr.includes('SDK up in'); waited += 20) {
    if (waited > 60_000) throw new Error(`the SDK did not start; stderr:\n${armed.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(armed.stderr).toContain('armed (its first turn comes as a follow-up)');
  expect(agent.server.requests.length).toBe(requestsBefore);
  expect(armed.frames).toEqual([]);

  await armed.writeFollowUp("what is my cat's name?");
  const [answer] = await armed.waitForFrames(1);
  expect(answer).toEqual({
    status: 'success',
    result: "turns so far: my cat is called Tom | what is my cat's name?",
    newSessionId: reply?.newSessionId,
  });
  await armed.close();
  expect(await armed.exited).toBe(0);
});

test('an armed run that is given nothing ends by itself when idle, having answered nothing', async () => {
  const dirs = await agent.dirsFor('main');
  const requestsBefore = agent.server.requests.length;
  const armed = startAgentContainer({
    input: { ...input(dirs, 'unused'), prompt: null },
    dirs,
    env: { IDLE_TIMEOUT: '1000' },
  });
  expect(await armed.exited).toBe(0);
  expect(armed.frames).toEqual([]);
  expect(armed.stderr).toContain('closing: idle for 1000 ms');
  expect(agent.server.requests.length).toBe(requestsBefore);
});

test('a follow-up written during a turn gets its own framed reply in the same session; _close ends the run', async () => {
  const firstTurnStarted = gate();
  const firstTurnMayFinish = gate();
  agent.respond = async (request) => {
    const prompts = userPrompts(request);
    if (prompts.length === 1) {
      firstTurnStarted.open();
      await firstTurnMayFinish.opened;
      return [{ type: 'text', text: 'answer one' }];
    }
    return [{ type: 'text', text: `answer two, after: ${prompts.join(' | ')}` }];
  };
  const dirs = await agent.dirsFor('main');
  const run = startAgentContainer({ input: input(dirs, 'question one'), dirs, env: {} });

  await firstTurnStarted.opened;
  await run.writeFollowUp('question two');
  // The agent takes the file while the first turn is still waiting on the model.
  await untilInputTaken(dirs, run);
  firstTurnMayFinish.open();

  const [one, two] = await run.waitForFrames(2);
  expect(one).toMatchObject({ status: 'success', result: 'answer one' });
  expect(two).toMatchObject({ status: 'success', result: 'answer two, after: question one | question two' });
  expect(two?.newSessionId).toBe(one?.newSessionId);
  const lastRequest = agent.server.requests.at(-1);
  expect(JSON.stringify(lastRequest?.messages)).toContain('answer one');

  await run.close();
  expect(await run.exited).toBe(0);
  expect(run.frames).toHaveLength(2);
  expect(run.stderr).toContain('closing: the host sent _close');
});

test('_close written during a turn still lets that turn answer, then the run exits 0', async () => {
  const turnStarted = gate();
  const turnMayFinish = gate();
  agent.respond = async () => {
    turnStarted.open();
    await turnMayFinish.opened;
    return [{ type: 'text', text: 'the only answer' }];
  };
  const dirs = await agent.dirsFor('main');
  const run = startAgentContainer({ input: input(dirs, 'a task prompt'), dirs, env: {} });
  await turnStarted.opened;
  await run.close();
  await untilInputTaken(dirs, run);
  turnMayFinish.open();
  expect(await run.exited).toBe(0);
  expect(run.frames).toEqual([
    { status: 'success', result: 'the only answer', newSessionId: expect.any(String) },
  ]);
});

test("the host's SIGTERM ends a waiting run at once (143), with no kill after the grace period (137)", async () => {
  agent.respond = () => [{ type: 'text', text: 'waiting for more' }];
  const dirs = await agent.dirsFor('main');
  const run = startAgentContainer({ input: input(dirs, 'hello'), dirs, env: {} });
  await run.waitForFrames(1);
  await run.stop(30);
  expect(await run.exited).toBe(143);
});

test("without the host's model proxy socket, the run ends with a clear error frame and exit 1", async () => {
  // Directories the proxy does not serve: no socket in data/model/.
  const dirs = await makeAgentDirs('main');
  try {
    const run = startAgentContainer({
      input: { ...input(await agent.dirsFor('main'), 'hello'), modelToken: 'a-token' },
      dirs,
      env: { IDLE_TIMEOUT: '1000' },
    });
    expect(await run.exited).toBe(1);
    expect(run.frames).toEqual([
      {
        status: 'error',
        result: null,
        error:
          "The host's model proxy is not reachable: /workspace/model/model.sock is missing (the host mounts its model dir at /workspace/model).",
        newSessionId: null,
      },
    ]);
    expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/\n\s+at /);
    expect(agent.server.requests).toHaveLength(0);
  } finally {
    await removeAgentDirs(dirs);
  }
});

test("a token the proxy does not know (another group's, or a run's that ended) gets its 401, and the run says so", async () => {
  agent.respond = () => [{ type: 'text', text: 'never asked' }];
  const mine = await agent.dirsFor('main');
  const other = await agent.dirsFor('family');
  const run = startAgentContainer({
    input: { ...input(mine, 'hello'), modelToken: agent.token(other) },
    dirs: mine,
    env: {},
  });
  expect(await run.exited).toBe(1);
  expect(run.frames).toEqual([
    {
      status: 'error',
      result: null,
      error: expect.stringContaining('The model endpoint failed (HTTP 401)'),
      newSessionId: expect.any(String),
    },
  ]);
  expect(agent.server.requests).toHaveLength(0);
});

test('credentials the endpoint refuses end the run with an error frame saying what to check', async () => {
  agent.respond = () => ({ error: { status: 401, message: 'invalid x-api-key' } });
  const dirs = await agent.dirsFor('main');
  const token = agent.token(dirs);
  const run = startAgentContainer({ input: { ...input(dirs, 'hello'), modelToken: token }, dirs, env: {} });
  // The CLI alone would retry for minutes; the run ends at its first retry.
  expect(await run.exited).toBe(1);
  expect(run.frames).toEqual([
    {
      status: 'error',
      result: null,
      error:
        'The model endpoint failed (HTTP 401): it refused the credentials: check ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN in the host .env.',
      newSessionId: expect.any(String),
    },
  ]);
  expect(run.stderr).toContain('model request failed (401 authentication_failed); retry 1 of 10');
  // It came through the proxy, which sent the key; neither the key nor the token was printed.
  expect(agent.server.received.at(-1)?.headers['x-api-key']).toBe(PROXY_MODEL_KEY);
  expect(`${run.stdout}\n${run.stderr}`).not.toContain(PROXY_MODEL_KEY);
  expect(`${run.stdout}\n${run.stderr}`).not.toContain(token);
});

test('input that is not valid ends the run with an error frame naming the field', async () => {
  const dirs = await agent.dirsFor('main');
  const { chatJid: _, ...withoutChat } = input(dirs, 'hello');
  const run = startAgentContainer({ input: withoutChat, dirs, env: {} });
  expect(await run.exited).toBe(1);
  expect(run.frames).toEqual([
    {
      status: 'error',
      result: null,
      error: 'input.chatJid: expected a non-empty string, got nothing',
      newSessionId: null,
    },
  ]);
});
