import { expect, test } from 'vitest';
import { parseAssignments } from './assignments.ts';

test('arguments: KEY=VALUE, and a bare KEY from the environment', () => {
  expect(parseAssignments(['A=1', 'B=x=y', 'HOME_DIR'], { HOME_DIR: '/home/a' }, 1)).toEqual({
    A: '1',
    B: 'x=y',
    HOME_DIR: '/home/a',
  });
});

test('argument errors name the position, not the text (it may be a secret)', () => {
  expect(() => parseAssignments(['A=1', 'hunter2'], {}, 1)).toThrow(
    'KEY=VALUE argument 2 has no "=VALUE" and names no variable set in this environment',
  );
  let message = '';
  try {
    parseAssignments(['9bad=s3cret'], {}, 1);
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toMatch(/^KEY=VALUE argument 1 is not KEY=VALUE/);
  expect(message).not.toContain('s3cret');
});
