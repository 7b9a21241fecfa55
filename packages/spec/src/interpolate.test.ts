import { describe, expect, test } from 'vitest';
import { InterpolationError, interpolate, soleVariableReference } from './interpolate.ts';

const env = { HOST: 'db.local', EMPTY: '', PORT: '5432' };

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

test('soleVariableReference recognises exactly one ${VAR}', () => {
  expect(soleVariableReference('${AWS_SECRET}')).toBe('AWS_SECRET');
  expect(soleVariableReference('x${AWS_SECRET}')).toBeUndefined();
  expect(soleVariableReference('${A:-b}')).toBeUndefined();
  expect(soleVariableReference('literal')).toBeUndefined();
});
