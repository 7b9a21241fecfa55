import { expect, test } from 'vitest';
import { formatDotenv } from './dotenv.ts';

/**
 * A reader that follows the documented rules and nothing else: `NAME="value"` lines; inside the quotes a
 * backslash escapes exactly \ " n r $, and an unescaped quote ends the value.
 */
function parseDotenv(text: string): Record<string, string> {
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
};

test('every tricky value reads back unchanged with the documented rules', () => {
  const text = formatDotenv(TRICKY);
  expect(parseDotenv(text)).toEqual(TRICKY);
  // One line per secret, whatever the values hold.
  expect(text.split('\n')).toHaveLength(Object.keys(TRICKY).length + 1);
});

test('the file is NAME="value" lines, sorted by name, with exactly five escapes', () => {
  expect(formatDotenv({ B: 'a"b\\c\nd\re$f`g\'h', A: 'plain' })).toBe(
    'A="plain"\nB="a\\"b\\\\c\\nd\\re\\$f`g\'h"\n',
  );
  expect(formatDotenv({})).toBe('');
});
