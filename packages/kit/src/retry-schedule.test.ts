import { expect, test } from 'vitest';
import { RetrySchedule } from './retry-schedule.ts';

test('a key is due at once, then after delays that double up to the cap, each within its jitter', () => {
  let now = 0;
  const schedule = new RetrySchedule({ firstMs: 1_000, longestMs: 8_000, jitter: 0.1, now: () => now });
  expect(schedule.due('a')).toBe(true);
  const delays: number[] = [];
  for (let attempt = 1; attempt <= 6; attempt++) {
    expect(schedule.attempted('a')).toBe(attempt);
    const start = now;
    while (!schedule.due('a')) now += 10;
    delays.push(now - start);
  }
  const expected = [1_000, 2_000, 4_000, 8_000, 8_000, 8_000];
  delays.forEach((delay, index) => {
    const nominal = expected[index] as number;
    expect(delay).toBeGreaterThanOrEqual(nominal * 0.9 - 10);
    expect(delay).toBeLessThanOrEqual(nominal * 1.1 + 10);
  });
});

test('keys are independent, and forgotten ones are due again from the first attempt', () => {
  const now = 0;
  const schedule = new RetrySchedule({ firstMs: 1_000, longestMs: 8_000, jitter: 0, now: () => now });
  schedule.attempted('a');
  expect(schedule.due('a')).toBe(false);
  expect(schedule.due('b')).toBe(true);
  schedule.keepOnly(new Set(['b']));
  expect(schedule.due('a')).toBe(true);
  expect(schedule.attempts('a')).toBe(0);
});
