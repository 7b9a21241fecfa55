import { describe, expect, test } from 'vitest';
import { InterpolationError, interpolate, soleVariableReference } from './interpolate.ts';
import { workloadEnvironment } from './workload-env.ts';

const env = workloadEnvironment({
  HOST: 'db.local',
  EMPTY: '',
  PORT: '5432',
  SECRET: 'not-for-workloads',
  BOILERHOUSE_API_KEY: 'admin-key',
  BOILERHOUSE_WORKLOAD_ENV: 'HOST,EMPTY,PORT,MISSING',
});

describe('interpolate', () => {
  test.each([
    ['plain text', 'plain text'],
    ['${HOST}', 'db.local'],
    ['postgres://${HOST}:${PORT}/x', 'postgres://db.local:5432/x'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${MISSING-fallback}', 'fallback'],
    ['${MISSING:-${HOST}}', 'db.local'],
    ['${HOST:?needed}', 'db.local'],
    ['cost: $$5', 'cost: $5'],
    ['echo $HOME', 'echo $HOME'],
    ['tenants/${tenantId}/state', 'tenants/${tenantId}/state'],
    ['a $ b', 'a $ b'],
  ])('%j -> %j', (input, expected) => {
    expect(interpolate(input, env)).toBe(expected);
  });

  test.each([
    ['${MISSING}', 'environment variable MISSING is not set (write ${MISSING:-default} to give a default)'],
    ['${EMPTY:?set it in .env}', 'environment variable EMPTY is required: set it in .env'],
    ['${MISSING?}', 'environment variable MISSING is required: it is unset'],
    ['${HOST', 'unclosed "${" at character 1'],
    ['${1BAD}', '"${1BAD}" is not a valid variable name'],
    ['${HOST:+alt}', '"${HOST:+alt}" uses an unknown operator; use :- - :? or ?'],
  ])('%j fails: %s', (input, message) => {
    expect(() => interpolate(input, env)).toThrow(new InterpolationError(message));
  });
});

describe('a variable the operator did not allow reads as unset', () => {
  test.each([
    ['${SECRET}', '${SECRET} is not allowed: add SECRET to BOILERHOUSE_WORKLOAD_ENV'],
    ['${SECRET:?needed}', '${SECRET} is not allowed: add SECRET to BOILERHOUSE_WORKLOAD_ENV'],
    [
      'key=${BOILERHOUSE_API_KEY}',
      "${BOILERHOUSE_API_KEY} is not allowed: BOILERHOUSE_* variables are the daemon's own settings and are never given to workloads",
    ],
  ])('%j fails: %s', (input, message) => {
    expect(() => interpolate(input, env)).toThrow(new InterpolationError(message));
  });

  test('a default applies, with a warning that says why, whether or not the variable is set', () => {
    const warned: string[] = [];
    expect(interpolate('${SECRET:-none}/${UNSET-x}', env, (message) => warned.push(message))).toBe('none/x');
    expect(warned).toEqual([
      '${SECRET:-none} uses its default: SECRET is not allowed here (add SECRET to BOILERHOUSE_WORKLOAD_ENV)',
      '${UNSET-x} uses its default: UNSET is not allowed here (add UNSET to BOILERHOUSE_WORKLOAD_ENV)',
    ]);
  });

  test('a default that itself names a refused variable fails', () => {
    expect(() => interpolate('${NOPE:-${SECRET}}', env)).toThrow(
      new InterpolationError('${SECRET} is not allowed: add SECRET to BOILERHOUSE_WORKLOAD_ENV'),
    );
  });
});

test('soleVariableReference recognises exactly one ${VAR}', () => {
  expect(soleVariableReference('${AWS_SECRET}')).toBe('AWS_SECRET');
  expect(soleVariableReference('x${AWS_SECRET}')).toBeUndefined();
  expect(soleVariableReference('${A:-b}')).toBeUndefined();
  expect(soleVariableReference('literal')).toBeUndefined();
});
