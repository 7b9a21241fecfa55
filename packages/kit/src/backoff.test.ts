import { expect, test } from 'vitest';
import { backoffDelay, sleep } from './backoff.ts';

const HALF = () => 0.5;

test('doubles from the first delay after each failure, up to the longest', () => {
  const backoff = { firstMs: 250, longestMs: 5_000, jitter: 0.2 };
  const delays = [1, 2, 3, 4, 5, 6, 7].map((failures) => backoffDelay(backoff, failures, HALF));
  expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
});

test('jitter moves a delay by at most its fraction, either way', () => {
  const backoff = { firstMs: 1_000, longestMs: 60_000, jitter: 0.2 };
  expect(backoffDelay(backoff, 1, () => 0)).toBe(800);
  expect(backoffDelay(backoff, 1, () => 0.999_999)).toBe(1_200);
  expect(backoffDelay({ ...backoff, jitter: 0 }, 3, () => 0)).toBe(4_000);
  for (let i = 0; i < 100; i++) {
    const delay = backoffDelay(backoff, 2);
    expect(delay).toBeGreaterThanOrEqual(1_600);
    expect(delay).toBeLessThanOrEqual(2_400);
  }
});

test('any count of failures stays a finite delay at the cap', () => {
  const backoff = { firstMs: 5_000, longestMs: 600_000, jitter: 0.1 };
  for (const failures of [20, 1_000, 1e9, Number.MAX_SAFE_INTEGER])
    expect(backoffDelay(backoff, failures, HALF)).toBe(600_000);
  expect(backoffDelay(backoff, 0, HALF)).toBe(5_000);
});

test('sleep waits about as long as asked', async () => {
  const started = performance.now();
  await sleep(30);
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);
});
