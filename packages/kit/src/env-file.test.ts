import { expect, test } from 'vitest';
import { envFileValues, formatEnvFile, parseEnvFile } from './env-file.ts';

/**
 * A reader that follows the documented written form and nothing else: `NAME="value"` lines; inside the
 * quotes a backslash escapes exactly \ " n r $, and an unescaped quote ends the value.
 */
function strictRead(text: string): Record<string, string> {
  const escapes: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', $: '$' };
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)="(.*)"$/s.exec(line);
    if (match === null) throw new Error(`not a NAME="value" line: ${line}`);
    const [, name, quoted] = match as unknown as [string, string, string];
    let value = '';
    for (let i = 0; i < quoted.length; i++) {
      const char = quoted[i] as string;
      if (char === '"') throw new Error(`unescaped quote in ${name}`);
      if (char !== '\\') {
        value += char;
        continue;
      }
      const next = escapes[quoted[++i] ?? ''];
      if (next === undefined) throw new Error(`unknown escape in ${name}`);
      value += next;
    }
    values[name] = value;
  }
  return values;
}

const TRICKY: Record<string, string> = {
  QUOTES: `she said "hi" and 'bye'`,
  NEWLINES: 'line one\nline two\r\nline three\n',
  DOLLARS: '$HOME ${PATH} $(whoami) $$ \\$ends with $',
  BACKSLASHES: 'C:\\Users\\n\\ends with \\',
  EQUALS: 'a=b==c=',
  HASH: 'value # not a comment',
  SPACES: '  padded  ',
  EMPTY: '',
  UNICODE: 'päss wörd 🔑',
  PEM: '-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n',
  ENDS_IN_QUOTE: 'x"',
  TAB: 'a\tb \\t',
};

test('every tricky value written reads back unchanged, by the documented rules and by parseEnvFile', () => {
  const text = formatEnvFile(TRICKY);
  expect(strictRead(text)).toEqual(TRICKY);
  expect(envFileValues(text, 'x.env')).toEqual(TRICKY);
  // One line per name, whatever the values hold.
  expect(text.split('\n')).toHaveLength(Object.keys(TRICKY).length + 1);
});

test('the written file is NAME="value" lines, sorted by name, with exactly five escapes', () => {
  expect(formatEnvFile({ B: 'a"b\\c\nd\re$f`g\'h', A: 'plain' })).toBe(
    'A="plain"\nB="a\\"b\\\\c\\nd\\re\\$f`g\'h"\n',
  );
  expect(formatEnvFile({})).toBe('');
});

test('read: comments, export, quotes, the five escapes and \\t; other backslashes kept', () => {
  const text = [
    '# a comment',
    '',
    'PLAIN=abc # trailing comment',
    'export EXPORTED=1',
    "SINGLE='a \\n $b'",
    'DOUBLE="line\\nnext \\"q\\" \\$HOME \\\\ \\r\\t \\x"',
    'EMPTY=',
    'SPACED = " kept " # comment',
  ].join('\r\n');
  expect(envFileValues(text, 'x.env')).toEqual({
    PLAIN: 'abc',
    EXPORTED: '1',
    SINGLE: 'a \\n $b',
    DOUBLE: 'line\nnext "q" $HOME \\ \r\t \\x',
    EMPTY: '',
    SPACED: ' kept ',
  });
  expect(parseEnvFile('\nA=1\n', '.env').A).toEqual({ value: '1', where: '.env:2' });
});

test('read errors name the file and line, never the value', () => {
  expect(() => parseEnvFile('OK=1\nsecret-value-here\n', 'x.env')).toThrow(/^x\.env:2: expected KEY=VALUE$/);
  expect(() => parseEnvFile('A="unterminated secret\n', 'x.env')).toThrow(
    /^x\.env:1: the value's closing " is missing$/,
  );
  expect(() => parseEnvFile("A='open", '.env')).toThrow(/^\.env:1: the value's closing ' is missing$/);
  expect(() => parseEnvFile('A="ok" secret', 'x.env')).toThrow(
    /^x\.env:1: unexpected text after the quoted value$/,
  );
  expect(() => parseEnvFile('9BAD=secret', 'x.env')).toThrow(
    /^x\.env:1: "9BAD" is not a valid name \(letters, digits, _\)$/,
  );
});
