import { expect, test } from 'vitest';
import type { ActivityEvent, Pool, WorkloadProblem } from '../api/types.ts';
import { attention, isExhausted } from './attention.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');

const NONE: Pool['instances'] = {
  creating: 0,
  ready: 0,
  claiming: 0,
  claimed: 0,
  releasing: 0,
  release_failed: 0,
  reserved: 0,
  destroying: 0,
  failed: 0,
};

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
    instances: { ...NONE, ...instances },
    old_version: NONE,
    fill: { consecutive_failures: 0, last_error: null, last_error_at: null, backoff_until: null, ...fill },
  };
}

test('a pool is exhausted when every slot is used and none is ready or reserved (reservations make room)', () => {
  expect(isExhausted(pool('a', { claimed: 2 }))).toBe(true);
  expect(isExhausted(pool('a', { claimed: 1, ready: 1 }))).toBe(false);
  expect(isExhausted(pool('a', { claimed: 1, reserved: 1 }))).toBe(false);
  expect(isExhausted(pool('a', { claimed: 1 }))).toBe(false);
});

function event(
  id: number,
  type: ActivityEvent['type'],
  minutesAgo: number,
  changes: Partial<ActivityEvent> = {},
): ActivityEvent {
  return {
    id,
    at: new Date(NOW - minutesAgo * 60_000).toISOString(),
    type,
    workload: 'a',
    tenant: null,
    instance: null,
    message: `${type} ${id}`,
    data: null,
    ...changes,
  };
}

test('failing pools and recent failure events need attention; healthy pools and old events do not', () => {
  const items = attention(
    [
      pool('a', { release_failed: 1, claimed: 1 }),
      pool('b', {}, { consecutive_failures: 3, last_error: 'no such image' }),
      pool('ok', { ready: 1 }),
    ],
    [],
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

test('a workload file’s problem shows while it lasts, not its events; events of a deleted workload go', () => {
  const problem = (file: string, workload: string | null): WorkloadProblem => ({
    file,
    workload,
    kind: 'invalid',
    message: `${file} is not valid; not loaded`,
    details: [{ path: `${file}:3:1 spool`, message: 'unknown key "spool"; did you mean "pool"?' }],
    since: new Date(NOW - 60_000).toISOString(),
  });
  const pools = [pool('a', {}), { ...pool('gone', {}), removed: true }];
  const events = [
    event(1, 'pool.warning', 2, { workload: 'a', data: { file: 'a.yaml', problem: 'invalid' } }),
    event(2, 'instance.failed', 2, { workload: 'gone' }),
    event(3, 'instance.failed', 1),
    event(4, 'pool.warning', 1, { workload: null, message: 'the workloads directory could not be read' }),
  ];
  const items = attention(
    pools,
    [problem('a.yaml', 'a'), problem('new.yaml', 'new')],
    events,
    NOW - 15 * 60_000,
  );
  expect(items.map((item) => [item.key, item.workload])).toEqual([
    ['problem:invalid:a.yaml', 'a'],
    ['problem:invalid:new.yaml', null],
    ['event:4', null],
    ['event:3', 'a'],
  ]);
  expect(items[0]).toMatchObject({
    severity: 'error',
    title: 'a.yaml is not valid; not loaded',
    detail: 'a.yaml:3:1 spool: unknown key "spool"; did you mean "pool"?',
  });
  // Fixed: the same pools and events, no problem any more.
  expect(attention(pools, [], events, NOW - 15 * 60_000).map((item) => item.key)).toEqual([
    'event:4',
    'event:3',
  ]);
});
