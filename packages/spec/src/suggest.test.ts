import { expect, test } from 'vitest';
import { closestKey, editDistance } from './suggest.ts';

const keys = ['min_idle', 'max_size', 'affinity_timeout', 'reserve', 'file_idle_ttl', 'image', 'environment'];

test.each([
  ['minIdle', 'min_idle'],
  ['MAX-SIZE', 'max_size'],
  ['imgae', 'image'],
  ['enviroment', 'environment'],
  ['affinityTimeout', 'affinity_timeout'],
  ['fileIdleTtl', 'file_idle_ttl'],
])('%j suggests %j', (typed, expected) => {
  expect(closestKey(typed, keys)).toBe(expected);
});

test('no suggestion when nothing is close', () => {
  expect(closestKey('replicas', keys)).toBeUndefined();
  expect(closestKey('x', keys)).toBeUndefined();
});

test('edit distance counts an adjacent swap as one edit', () => {
  expect(editDistance('image', 'imgae')).toBe(1);
  expect(editDistance('kitten', 'sitting')).toBe(3);
  expect(editDistance('', 'abc')).toBe(3);
});
