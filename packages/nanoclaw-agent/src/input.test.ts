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
  expect(parseInput(JSON.stringify(valid))).toEqual(valid);
  const { sessionId: _, ...withoutSession } = valid;
  expect(parseInput(JSON.stringify(withoutSession)).sessionId).toBeNull();
  const resumed = { ...valid, sessionId: '0b7c2a47-1111-4222-8333-944444444444' };
  expect(parseInput(JSON.stringify(resumed)).sessionId).toBe(resumed.sessionId);
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
