import { expect, test } from 'vitest';
import { MessageQueue } from './message-queue.ts';
import { isStaleSessionError, ReplayLog } from './session.ts';

const id = '0b7c2a47-1111-4222-8333-944444444444';

test("the CLI's unknown-session error is stale only for the session that was resumed", () => {
  expect(isStaleSessionError(`No conversation found with session ID: ${id}`, id)).toBe(true);
  expect(isStaleSessionError('API Error: 400 bad request', id)).toBe(false);
  expect(isStaleSessionError('No conversation found with session ID: another', id)).toBe(false);
});

test('the queue hands out turns in order, waits for more, and ends once drained', async () => {
  const queue = new MessageQueue<string>();
  queue.push('one');
  const seen: string[] = [];
  const reading = (async () => {
    for await (const text of queue) seen.push(text);
  })();
  await new Promise((resolve) => setTimeout(resolve, 5));
  queue.push('two');
  queue.end();
  await reading;
  expect(seen).toEqual(['one', 'two']);
  expect(() => queue.push('three')).toThrow('push after end');
});

test('a retry with a fresh session is fed every turn the stale attempt took, then the rest', async () => {
  const queue = new MessageQueue<string>();
  queue.push('follow-up taken by the failed attempt');
  const first = new ReplayLog<string>();
  const stale = first.feed(['first prompt'], queue);
  expect((await stale.next()).value).toBe('first prompt');
  expect((await stale.next()).value).toBe('follow-up taken by the failed attempt');

  queue.push('later follow-up');
  queue.end();
  const retried: string[] = [];
  for await (const text of new ReplayLog<string>().feed(first.consumed, queue)) retried.push(text);
  expect(retried).toEqual(['first prompt', 'follow-up taken by the failed attempt', 'later follow-up']);
});
