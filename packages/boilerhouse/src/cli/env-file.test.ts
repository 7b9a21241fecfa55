import { expect, test } from 'vitest';
import { parseAssignments, parseEnvFile } from './env-file.ts';

test('env files: comments, export, quotes and the escapes the daemon writes', () => {
  const text = [
    '# a comment',
    '',
    'PLAIN=abc # trailing comment',
    'export EXPORTED=1',
    "SINGLE='a \\n $b'",
    'DOUBLE="line\\nnext \\"q\\" \\$HOME \\\\"',
    'EMPTY=',
  ].join('\n');
  expect(parseEnvFile(text, 'x.env')).toEqual({
    PLAIN: 'abc',
    EXPORTED: '1',
    SINGLE: 'a \\n $b',
    DOUBLE: 'line\nnext "q" $HOME \\',
    EMPTY: '',
  });
});

test('env file errors name the line, never the value', () => {
  expect(() => parseEnvFile('OK=1\nsecret-value-here\n', 'x.env')).toThrow('x.env:2: expected KEY=VALUE');
  expect(() => parseEnvFile('A="unterminated secret\n', 'x.env')).toThrow(
    /^x\.env:1: the value's closing " is missing$/,
  );
});

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
