import { expect, test } from 'vitest';
import { parseInput } from './input.ts';

const valid = {
  prompt: '<messages><message sender="Ann">hi</message></messages>',
  sessionId: null,
  group: 'main',
  chatJid: 'web:main',
  isMain: true,
  isScheduledTask: false,
  assistantName: 'Andy',
  modelToken: 'a-run-token-of-the-host-proxy',
};

test('a valid input is read as given; a missing sessionId means a new session', () => {
  expect(parseInput(JSON.stringify(valid))).toEqual({ ...valid, mcpServers: [], mcpToken: null });
  const { sessionId: _, ...withoutSession } = valid;
  expect(parseInput(JSON.stringify(withoutSession)).sessionId).toBeNull();
  const resumed = { ...valid, sessionId: '0b7c2a47-1111-4222-8333-944444444444' };
  expect(parseInput(JSON.stringify(resumed)).sessionId).toBe(resumed.sessionId);
});

test('a null prompt starts the run armed; a missing one is refused', () => {
  expect(parseInput(JSON.stringify({ ...valid, prompt: null })).prompt).toBeNull();
  const { prompt: _, ...withoutPrompt } = valid;
  expect(() => parseInput(JSON.stringify(withoutPrompt))).toThrow(
    'input.prompt: expected a non-empty string',
  );
});

test('images are paths inside the group folder with one of the four image types', () => {
  const images = [
    { path: 'files/cat.png', mediaType: 'image/png' },
    { path: 'files/sub/dog.jpg', mediaType: 'image/jpeg' },
  ];
  expect(parseInput(JSON.stringify({ ...valid, images })).images).toEqual(images);
  const refused = (image: unknown) => () => parseInput(JSON.stringify({ ...valid, images: [image] }));
  expect(refused({ path: '/etc/passwd', mediaType: 'image/png' })).toThrow(
    `input.images[0].path: expected a path inside the group's folder, got "/etc/passwd"`,
  );
  expect(refused({ path: 'files/../../x', mediaType: 'image/png' })).toThrow('input.images[0].path');
  expect(refused({ path: 'files/a.pdf', mediaType: 'application/pdf' })).toThrow(
    'input.images[0].mediaType: expected one of image/png, image/jpeg, image/gif, image/webp',
  );
  expect(() => parseInput(JSON.stringify({ ...valid, images: 'files/cat.png' }))).toThrow(
    'input.images: expected a list',
  );
});

test("the group's MCP servers and the gateway token are read as given; a bad entry is refused naming it", () => {
  const mcpServers = [
    { name: 'files', type: 'stdio', package: '@acme/files-mcp', args: ['--ro'] },
    { name: 'docs', type: 'http', url: 'https://mcp.example.com/mcp' },
    { name: 'gmail', type: 'host' },
  ];
  expect(parseInput(JSON.stringify({ ...valid, mcpServers, mcpToken: 'a-gateway-token' }))).toMatchObject({
    mcpServers,
    mcpToken: 'a-gateway-token',
  });
  const refused = (server: unknown) => () => parseInput(JSON.stringify({ ...valid, mcpServers: [server] }));
  expect(refused({ name: 'Bad Name', type: 'host' })).toThrow('input.mcpServers[0].name');
  expect(refused({ name: 'x', type: 'stdio', package: '../../bin/sh' })).toThrow(
    'input.mcpServers[0].package',
  );
  expect(refused({ name: 'x', type: 'http', url: 'file:///etc/passwd' })).toThrow('input.mcpServers[0].url');
  expect(refused({ name: 'x', type: 'docker' })).toThrow(
    'input.mcpServers[0].type: expected stdio, http, sse or host',
  );
});

test.each([
  ['', 'input: stdin was empty; expected one JSON object'],
  ['{"prompt":', 'input: stdin is not JSON'],
  ['[1]', 'input: expected a JSON object, got an array'],
  [JSON.stringify({ ...valid, prompt: '  ' }), 'input.prompt: expected a non-empty string, got "  "'],
  [JSON.stringify({ ...valid, group: undefined }), 'input.group: expected a non-empty string, got nothing'],
  [JSON.stringify({ ...valid, chatJid: 42 }), 'input.chatJid: expected a non-empty string, got number'],
  [JSON.stringify({ ...valid, isMain: 'yes' }), 'input.isMain: expected true or false, got "yes"'],
  [
    JSON.stringify({ ...valid, isScheduledTask: null }),
    'input.isScheduledTask: expected true or false, got null',
  ],
  [JSON.stringify({ ...valid, sessionId: '../../etc' }), 'input.sessionId: expected a session UUID or null'],
  [JSON.stringify({ ...valid, assistantName: '' }), 'input.assistantName: expected a non-empty string'],
  [
    JSON.stringify({ ...valid, modelToken: undefined }),
    'input.modelToken: expected a non-empty string, got nothing',
  ],
])('bad input %j is refused naming the field', (text, message) => {
  expect(() => parseInput(text)).toThrow(message);
});
