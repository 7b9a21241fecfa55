/** The scripted model server, checked with Anthropic's own TypeScript client as the reader of its wire. */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, expect, test } from 'vitest';
import { dockerBridgeGateway, type ModelServer, type Responder, startModelServer } from './model-server.ts';
import { lastUserText } from './requests.ts';

let server: ModelServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(respond: Responder): Promise<{ server: ModelServer; client: Anthropic }> {
  server = await startModelServer(respond, { host: '127.0.0.1' });
  return { server, client: new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 }) };
}

const tools = [{ name: 'remember', description: 'stores a fact', input_schema: { type: 'object' as const } }];

test('a streamed reply carries text and tool_use blocks, and ends on tool_use', async () => {
  const { server, client } = await start(() => [
    { type: 'text', text: 'Let me note that.' },
    { type: 'tool_use', name: 'remember', input: { fact: 'the cat is Tom', tags: ['pets'] } },
  ]);
  const events: string[] = [];
  const stream = client.messages.stream({
    model: 'claude-test',
    max_tokens: 100,
    system: [{ type: 'text', text: 'You are Andy.' }],
    messages: [{ role: 'user', content: 'Remember my cat is Tom' }],
    tools,
  });
  stream.on('streamEvent', (event) => events.push(event.type));
  const message = await stream.finalMessage();

  expect(message.stop_reason).toBe('tool_use');
  expect(message.content).toMatchObject([
    { type: 'text', text: 'Let me note that.' },
    { type: 'tool_use', name: 'remember', input: { fact: 'the cat is Tom', tags: ['pets'] } },
  ]);
  expect(message.content[1]?.type === 'tool_use' && message.content[1].id).toMatch(/^toolu_/);
  expect(events[0]).toBe('message_start');
  expect(events.at(-2)).toBe('message_delta');
  expect(events.at(-1)).toBe('message_stop');
  expect(server.requests).toHaveLength(1);
  expect(server.requests[0]).toMatchObject({
    model: 'claude-test',
    stream: true,
    system: [{ text: 'You are Andy.' }],
  });
  expect(server.requests[0]?.tools?.map((tool) => tool.name)).toEqual(['remember']);
});

test('the Responder sees the conversation, including tool results, and may answer asynchronously', async () => {
  const { server, client } = await start(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return [{ type: 'text', text: `you said: ${lastUserText(request)}` }];
  });
  const message = await client.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    messages: [
      { role: 'user', content: 'note it' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'remember', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'stored' },
          { type: 'text', text: 'thanks' },
        ],
      },
    ],
    tools,
  });
  expect(message.content).toMatchObject([{ type: 'text', text: 'you said: thanks' }]);
  expect(message.stop_reason).toBe('end_turn');
  const lastTurn = server.requests[0]?.messages.at(-1)?.content;
  expect(Array.isArray(lastTurn) && lastTurn[0]).toMatchObject({
    type: 'tool_result',
    tool_use_id: 'toolu_1',
  });
});

test('a scripted error is answered with its status, and a failing Responder with a 400 naming it', async () => {
  let calls = 0;
  const { client } = await start(() => {
    calls += 1;
    if (calls === 1) return { error: { status: 529, message: 'scripted overload' } };
    throw new Error('no script for this');
  });
  const request = {
    model: 'claude-test',
    max_tokens: 10,
    messages: [{ role: 'user' as const, content: 'hi' }],
  };
  await expect(client.messages.create(request)).rejects.toMatchObject({ status: 529 });
  await expect(client.messages.create(request)).rejects.toThrow(/responder failed: no script for this/);
});

test('token counting is answered; other paths are refused and recorded', async () => {
  const { server, client } = await start(() => [{ type: 'text', text: 'unused' }]);
  const count = await client.messages.countTokens({
    model: 'claude-test',
    messages: [{ role: 'user', content: 'count me' }],
  });
  expect(count.input_tokens).toBeGreaterThan(0);
  const response = await fetch(`${server.url}/v1/models`);
  expect(response.status).toBe(404);
  expect(server.otherRequests).toEqual(['GET /v1/models']);
  expect(server.requests).toHaveLength(0);
});

test('a malformed body is refused with a message naming the field', async () => {
  const { server } = await start(() => [{ type: 'text', text: 'unused' }]);
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-test', messages: 'hi' }),
  });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
    'messages: expected an array',
  );
});

test("by default it listens on Docker's bridge gateway, where containers reach this machine", async () => {
  const gateway = await dockerBridgeGateway();
  server = await startModelServer(() => [{ type: 'text', text: 'from the bridge' }]);
  expect(new URL(server.url).hostname).toBe(gateway);
  const client = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 });
  const message = await client.messages.create({
    model: 'claude-test',
    max_tokens: 10,
    messages: [{ role: 'user', content: 'hi' }],
  });
  expect(message.content).toMatchObject([{ type: 'text', text: 'from the bridge' }]);
});
