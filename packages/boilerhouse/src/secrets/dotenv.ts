/**
 * The dotenv file a workload reads its secrets from when its secrets volume is a file (`/app/.env`).
 *
 * One `NAME="value"` line per secret, names sorted. Inside the double quotes, five characters are escaped
 * and nothing else is: backslash as `\\`, double quote as `\"`, line feed as `\n`, carriage return as `\r`
 * and dollar as `\$` (so no `${...}` is expanded). Every value is then one line, and a parser that undoes
 * exactly these escapes reads every string back unchanged. Real parsers differ at the edges: docker
 * compose's (godotenv) undoes all five but misreads a value that ends in `\` or `"`; Node's dotenv undoes
 * only `\n` and `\r`; python-dotenv all but `\$`; NanoClaw's own reader none. Values without backslashes,
 * quotes, dollars and line breaks (API keys, tokens, URLs) read back unchanged in all of them.
 */

const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', $: '\\$' };

export function formatDotenv(values: Readonly<Record<string, string>>): string {
  return Object.keys(values)
    .sort()
    .map((name) => `${name}="${quoteValue(values[name] ?? '')}"\n`)
    .join('');
}

/** The value escaped for the inside of double quotes. */
export function quoteValue(value: string): string {
  return value.replace(/[\\"\n\r$]/g, (char) => ESCAPES[char] ?? char);
}
