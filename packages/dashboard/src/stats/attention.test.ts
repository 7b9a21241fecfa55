import { expect, test } from 'vitest';
import type { ActivityEvent, Pool } from '../api/types.ts';
import { attention, isExhausted } from './attention.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');

function pool(
  workload: string,
  instances: Partial<Pool['instances']>,
  fill: Partial<Pool['fill']> = {},
): Pool {
  return {
    workload,
    version: 'v1',
    file: `/w/${workload}.yaml`,
    removed: false,
    min_idle: 1,
    max_size: 2,
    scaled: {},
    instances: {
      creating: 0,
      ready: 0,
      claiming: 0,
      claimed: 0,
      releasing: 0,
      release_failed: 0,
      reserved: 0,
      destroying: 0,
      failed: 0,
      ...instances,
    },
    fill: { consecutive_failures: 0, last_error: null, last_error_at: null, backoff_until: null, ...fill },
  };
}

test('a pool is exhausted when every slot is used and none is ready or reserved (reservations make room)', () => {
  expect(isExhausted(pool('a', { claimed: 2 }))).toBe(true);
  expect(isExhausted(pool('a', { claimed: 1, ready: 1 }))).toBe(false);
  expect(isExhausted(pool('a', { claimed: 1, reserved: 1 }))).toBe(false);
  expect(isExhausted(pool('a', { claimed: 1 }))).toBe(false);
});

test('failing pools and recent failure events need attention; healthy pools and old events do not', () => {
  const event = (id: number, type: ActivityEvent['type'], minutesAgo: number): ActivityEvent => ({
    id,
    at: new Date(NOW - minutesAgo * 60_000).toISOString(),
    type,
    workload: 'a',
    tenant: null,
    instance: null,
    message: `${type} ${id}`,
    data: null,
  });
  const items = attention(
    [
      pool('a', { release_failed: 1, claimed: 1 }),
      pool('b', {}, { consecutive_failures: 3, last_error: 'no such image' }),
      pool('ok', { ready: 1 }),
    ],
    [
      event(1, 'state.failed', 30),
      event(2, 'instance.failed', 5),
      event(3, 'instance.claimed', 1),
      event(4, 'pool.warning', 1),
    ],
    NOW - 15 * 60_000,
  );
  expect(items.map((item) => [item.key, item.severity])).toEqual([
    ['a:release_failed', 'error'],
    ['a:exhausted', 'warning'],
    ['b:fill', 'error'],
    ['event:4', 'warning'],
    ['event:2', 'error'],
  ]);
  expect(items.find((item) => item.key === 'b:fill')?.detail).toBe('no such image');
});
