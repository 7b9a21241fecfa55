import { expect, test } from 'vitest';
import { answerFileName, type HostAnswer, parseAnswer } from './ipc-answers.ts';

test("an answer's file is named for its request", () => {
  expect(answerFileName('1700000000000-0a1b2c3d.json')).toBe('1700000000000-0a1b2c3d.result.json');
});

test('what the host writes the agent reads back; anything else is no answer', () => {
  const answers: HostAnswer[] = [
    { status: 'accepted' },
    { status: 'accepted', taskId: 'task-1' },
    { status: 'refused', reason: 'no' },
    { status: 'failed', reason: 'down (8 attempts)' },
    { status: 'retrying', reason: 'down' },
  ];
  for (const answer of answers) expect(parseAnswer(`${JSON.stringify(answer)}\n`)).toEqual(answer);
  expect(parseAnswer('{"status":"refused"}')).toBeUndefined();
  expect(parseAnswer('{"status":"acc')).toBeUndefined();
  expect(parseAnswer('null')).toBeUndefined();
});
