/**
 * A run of the real agent image, as the host starts it, against the scripted model server: replies,
 * sessions, follow-ups, closing, and the errors that end a run before it starts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { type AgentContainer, type AgentDirs, startAgentContainer } from './testing/agent-container.ts';
import { useAgentFixture } from './testing/agent-fixture.ts';
import { userPrompts } from './testing/requests.ts';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const agent = useAgentFixture();

function input(prompt: string, sessionId: string | null = null) {
  return {
    prompt,
    sessionId,
    group: 'main',
    chatJid: 'web:main',
    isMain: true,
    isScheduledTask: false,
    assistantName: 'Andy',
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

function modelEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ANTHROPIC_BASE_URL: agent.server.url, ANTHROPIC_API_KEY: 'test-key', ...extra };
}

test('a prompt gets a framed reply and a session id; the next run resumes that session', async () => {
  agent.respond = (request) => [{ type: 'text', text: `turns so far: ${userPrompts(request).join(' | ')}` }];
  const dirs = await agent.dirsFor('main');

  const first = startAgentContainer({ input: input('my cat is called Tom'), dirs, env: modelEnv() });
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
    input: input("what is my cat's name?", sessionId),
    dirs,
    env: modelEnv(),
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
  const run = startAgentContainer({
    input: input('hello again', stale),
    dirs: await agent.dirsFor('main'),
    env: modelEnv({ IDLE_TIMEOUT: '1000' }),
  });
  const [reply] = await run.waitForFrames(1);
  expect(reply).toMatchObject({ status: 'success', result: 'fresh start with 1 turn(s)' });
  expect(reply?.newSessionId).toMatch(SESSION_ID);
  expect(reply?.newSessionId).not.toBe(stale);
  expect(await run.exited).toBe(0);
  expect(run.stderr).toContain(`session ${stale} is not known to the SDK (stale); starting a new session`);
  expect(run.stderr).toContain('closing: idle for 1000 ms');
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
  const run = startAgentContainer({ input: input('question one'), dirs, env: modelEnv() });

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
  const run = startAgentContainer({ input: input('a task prompt'), dirs, env: modelEnv() });
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
  const run = startAgentContainer({
    input: input('hello'),
    dirs: await agent.dirsFor('main'),
    env: modelEnv(),
  });
  await run.waitForFrames(1);
  await run.stop(30);
  expect(await run.exited).toBe(143);
});

test('with no model configured, the run ends with a clear error frame and exit 1, not a crash', async () => {
  const run = startAgentContainer({
    input: input('hello'),
    dirs: await agent.dirsFor('main'),
    env: { IDLE_TIMEOUT: '1000' },
  });
  expect(await run.exited).toBe(1);
  expect(run.frames).toEqual([
    {
      status: 'error',
      result: null,
      error:
        'No model is configured: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL for another Anthropic-compatible endpoint) in the host .env.',
      newSessionId: null,
    },
  ]);
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/\n\s+at /);
  expect(agent.server.requests).toHaveLength(0);
});

test('credentials the endpoint refuses end the run with an error frame saying what to check', async () => {
  agent.respond = () => ({ error: { status: 401, message: 'invalid x-api-key' } });
  const run = startAgentContainer({
    input: input('hello'),
    dirs: await agent.dirsFor('main'),
    env: modelEnv(),
  });
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
  expect(`${run.stdout}\n${run.stderr}`).not.toContain('test-key');
});

test('input that is not valid ends the run with an error frame naming the field', async () => {
  const { chatJid: _, ...withoutChat } = input('hello');
  const run = startAgentContainer({ input: withoutChat, dirs: await agent.dirsFor('main'), env: modelEnv() });
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
