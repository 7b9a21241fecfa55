/**
 * Reads a `.env` file into a plain object. It never touches `process.env`: the host picks the keys it
 * knows from the result, and only the model's settings go on to agent containers. Errors name the file
 * and line, never a value (values are often secrets).
 *
 * Lines: `KEY=value`, `export KEY=value`, blank lines and `# comments`. A value may be single-quoted (as
 * is) or double-quoted (`\n`, `\"`, `\\` undone); an unquoted value ends at ` #`.
 */
import { readFileSync } from 'node:fs';

export interface EnvFileValue {
  value: string;
  /** `file:line`, for error messages. */
  where: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UNESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t', $: '$' };

/** The file's values, or an empty object when it does not exist. */
export function readEnvFile(path: string): Record<string, EnvFileValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseEnvFile(text, path);
}

export function parseEnvFile(text: string, file: string): Record<string, EnvFileValue> {
  const values: Record<string, EnvFileValue> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${index + 1}`;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new Error(`${where}: expected KEY=VALUE`);
    const name = match[1] as string;
    if (!NAME.test(name)) throw new Error(`${where}: "${name}" is not a valid name (letters, digits, _)`);
    values[name] = { value: unquote(match[2] as string, where), where };
  }
  return values;
}

function unquote(rest: string, where: string): string {
  const quote = rest[0];
  if (quote !== '"' && quote !== "'") return rest.replace(/\s+#.*$/, '');
  const end = quote === "'" ? rest.indexOf("'", 1) : closingDoubleQuote(rest);
  if (end === -1) throw new Error(`${where}: the value's closing ${quote} is missing`);
  if (!/^\s*(#.*)?$/.test(rest.slice(end + 1))) {
    throw new Error(`${where}: unexpected text after the quoted value`);
  }
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
