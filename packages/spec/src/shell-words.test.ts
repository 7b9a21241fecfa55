import { expect, test } from 'vitest';
import { ShellWordsError, splitShellWords } from './shell-words.ts';

test.each([
  ['node dist/index.js', ['node', 'dist/index.js']],
  ['  spaced   out  ', ['spaced', 'out']],
  [`node -e 'console.log("hi there")'`, ['node', '-e', 'console.log("hi there")']],
  ['say "a \\"quoted\\" word"', ['say', 'a "quoted" word']],
  ['a\\ b c', ['a b', 'c']],
  ["empty '' arg", ['empty', '', 'arg']],
  ['echo $HOME', ['echo', '$HOME']],
])('%j splits into %j', (input, words) => {
  expect(splitShellWords(input)).toEqual(words);
});

test('an unclosed quote is an error', () => {
  expect(() => splitShellWords(`node -e 'oops`)).toThrow(new ShellWordsError('unclosed single quote'));
  expect(() => splitShellWords('say "oops')).toThrow(new ShellWordsError('unclosed double quote'));
});
