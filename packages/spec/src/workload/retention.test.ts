import { expect, test } from 'vitest';
import { formatProblem, loadWorkload } from '../load.ts';
import { workloadEnvironment } from '../workload-env.ts';

const DAY = 86_400_000;

function load(retention: string, env: Record<string, string> = {}) {
  const text = `id: r\nimage: i\nvolumes: {state: {target: /data}}\nsync:\n  retention: ${retention}\n`;
  const variables = workloadEnvironment({ ...env, BOILERHOUSE_WORKLOAD_ENV: Object.keys(env).join(',') });
  const { spec, problems } = loadWorkload(text, { file: 'r.yaml', env: variables });
  return { retention: spec?.sync?.retention, problems: problems.map((p) => formatProblem('r.yaml', p)) };
}

test('a bare number is a count of saves, as it always was; a duration is an age', () => {
  expect(load('3')).toEqual({ retention: { count: 3 }, problems: [] });
  expect(load('"3"')).toEqual({ retention: { count: 3 }, problems: [] });
  expect(load('30d')).toEqual({ retention: { age: 30 * DAY }, problems: [] });
  expect(load('12h')).toEqual({ retention: { age: 12 * 3_600_000 }, problems: [] });
  expect(load('${KEEP}', { KEEP: '7d' })).toEqual({ retention: { age: 7 * DAY }, problems: [] });
  expect(load('${KEEP}', { KEEP: '5' })).toEqual({ retention: { count: 5 }, problems: [] });
});

test('count and age together: both are kept in the spec', () => {
  expect(load('{count: 10, age: 30d}')).toEqual({ retention: { count: 10, age: 30 * DAY }, problems: [] });
  expect(load('{age: 1h}')).toEqual({ retention: { age: 3_600_000 }, problems: [] });
});

test('the default keeps ten saves', () => {
  const variables = workloadEnvironment({});
  const text = 'id: r\nimage: i\nvolumes: {state: {target: /data}}\n';
  expect(loadWorkload(text, { file: 'r.yaml', env: variables }).spec?.sync?.retention).toEqual({ count: 10 });
});

test('what is not a count or an age says what is', () => {
  const expected = 'a number of saves (10), an age (30d), or both ({count: 10, age: 30d})';
  expect(load('0').problems).toEqual(['r.yaml:5:14 sync.retention: expected an integer >= 1, got 0']);
  expect(load('2.5').problems).toEqual(['r.yaml:5:14 sync.retention: expected an integer >= 1, got 2.5']);
  expect(load('forever').problems).toEqual([
    'r.yaml:5:14 sync.retention: expected a duration such as 500ms, 30s, 5m, 1h or 1m30s, or a bare number of milliseconds, got "forever"',
  ]);
  expect(load('[10]').problems).toEqual([`r.yaml:5:14 sync.retention: expected ${expected}, got a list`]);
  expect(load('{}').problems).toEqual([
    'r.yaml:5:14 sync.retention: give count, age or both, e.g. {count: 10, age: 30d}',
  ]);
  expect(load('{count: 10, days: 30}').problems).toEqual([
    'r.yaml:5:26 sync.retention.days: unknown key "days"; expected one of: count, age',
  ]);
});

test('an age in bare milliseconds that is surely meant otherwise is a warning', () => {
  expect(load('{age: 30}')).toEqual({
    retention: { age: 30 },
    problems: [
      'r.yaml:5:20 sync.retention.age: warning: 30ms is very short; a bare number here is in milliseconds (write a unit, e.g. "30s", if you meant another)',
    ],
  });
});
