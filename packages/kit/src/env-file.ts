/**
 * The `.env` format, read and written in one place: the daemon writes a workload's secrets file with
 * `formatEnvFile` (`/app/.env` in the instance), and the NanoClaw host and `bh secrets set --from-env-file`
 * read such files with `parseEnvFile`. Errors name the file and line, never a value (values are often
 * secrets).
 *
 * Written: one `NAME="value"` line per name, names sorted. Inside the double quotes exactly five characters
 * are escaped: backslash as `\\`, double quote as `\"`, line feed as `\n`, carriage return as `\r` and
 * dollar as `\$` (so no `${...}` is expanded). Every value is then one line, and `parseEnvFile` reads every
 * string back unchanged. Other readers differ at the edges: docker compose's (godotenv) undoes all five but
 * misreads a value that ends in `\` or `"`; Node's dotenv undoes only `\n` and `\r`; python-dotenv all but
 * `\$`. Values without backslashes, quotes, dollars and line breaks (keys, tokens, URLs) read back
 * unchanged in all of them.
 *
 * Read: `KEY=value`, `export KEY=value`, blank lines and `# comments`. A value may be single-quoted (taken
 * as is) or double-quoted (the five escapes above and `\t` undone; any other backslash kept); an unquoted
 * value ends at ` #`.
 */

export interface EnvFileValue {
  value: string;
  /** `file:line`, for error messages. */
  where: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', $: '\\$' };
const UNESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t', $: '$' };

export function formatEnvFile(values: Readonly<Record<string, string>>): string {
  return Object.keys(values)
    .sort()
    .map((name) => `${name}="${quoteEnvValue(values[name] ?? '')}"\n`)
    .join('');
}

/** The value escaped for the inside of double quotes. */
export function quoteEnvValue(value: string): string {
  return value.replace(/[\\"\n\r$]/g, (char) => ESCAPES[char] ?? char);
}

/** The text's values by name; `file` only names where an error is. */
export function parseEnvFile(text: string, file: string): Record<string, EnvFileValue> {
  const values: Record<string, EnvFileValue> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${index + 1}`;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new Error(`${where}: expected KEY=VALUE`);
    const [, name, rest] = match as unknown as [string, string, string];
    if (!NAME.test(name)) throw new Error(`${where}: "${name}" is not a valid name (letters, digits, _)`);
    values[name] = { value: unquote(rest, where), where };
  }
  return values;
}

/** Just the values, for a reader that has no use for where each came from. */
export function envFileValues(text: string, file: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parseEnvFile(text, file)).map(([name, { value }]) => [name, value]),
  );
}

function unquote(rest: string, where: string): string {
  const quote = rest[0];
  if (quote !== '"' && quote !== "'") return rest.replace(/\s+#.*$/, '');
  const end = quote === "'" ? rest.indexOf("'", 1) : closingDoubleQuote(rest);
  if (end === -1) throw new Error(`${where}: the value's closing ${quote} is missing`);
  if (!/^\s*(#.*)?$/.test(rest.slice(end + 1)))
    throw new Error(`${where}: unexpected text after the quoted value`);
  const inner = rest.slice(1, end);
  return quote === "'"
    ? inner
    : inner.replace(/\\(.)/g, (sequence, char: string) => UNESCAPES[char] ?? sequence);
}

function closingDoubleQuote(text: string): number {
  for (let index = 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === '"') return index;
  }
  return -1;
}
