import { expect, test } from 'vitest';
import { declaredWorkloadId } from './declared-id.ts';

test('the top-level id of YAML or JSON text, whatever else is wrong with it', () => {
  expect(declaredWorkloadId('# echo\nid: echo # the demo\nspool: {}\n')).toBe('echo');
  expect(declaredWorkloadId('image: e\nid: "quoted"\n')).toBe('quoted');
  expect(declaredWorkloadId('pool:\n  id: nested\n')).toBeUndefined();
  expect(declaredWorkloadId('{"id": "json", "image": "e"}')).toBe('json');
  expect(declaredWorkloadId('{"id": 7}')).toBeUndefined();
  expect(declaredWorkloadId('{"id": "torn')).toBeUndefined();
});
