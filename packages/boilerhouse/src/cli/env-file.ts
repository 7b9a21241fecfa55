/**
 * Reads `KEY=VALUE` pairs for `secrets set`: from an env file (`--from-env-file`) and from arguments. Error
 * messages name a line or an argument's position, never a value, since the values are secrets.
 *
 * Env file lines: `KEY=value`, `export KEY=value`, blank lines and `# comments`. A value may be in single
 * quotes (taken as is) or double quotes (with `\\ \" \n \r \$` undone, as the daemon writes secret files).
 */
import { UsageError } from './command.ts';

/** What an environment variable's name looks like, as people write them: upper case. */
const VARIABLE_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UNESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', $: '$' };

export function parseEnvFile(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${index + 1}`;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new Error(`${where}: expected KEY=VALUE`);
    const [, name, rest] = match as unknown as [string, string, string];
    if (!NAME.test(name)) throw new Error(`${where}: "${name}" is not a valid name (letters, digits, _)`);
    values[name] = unquote(rest, where);
  }
  return values;
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

/**
 * `KEY=VALUE` arguments, and bare `KEY`s taken from `env` (so a value need not be on the command line,
 * where shell history and `ps` would see it). Usage errors name the argument's position only.
 */
export function parseAssignments(
  args: string[],
  env: Readonly<Record<string, string | undefined>>,
  firstPosition: number,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [index, arg] of args.entries()) {
    const position = `KEY=VALUE argument ${firstPosition + index}`;
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg : arg.slice(0, equals);
    if (!NAME.test(name)) {
      throw new UsageError(
        `${position} is not KEY=VALUE with a valid KEY (letters, digits, _; not starting with a digit)`,
      );
    }
    if (equals !== -1) {
      values[name] = arg.slice(equals + 1);
      continue;
    }
    const fromEnv = env[name];
    if (fromEnv === undefined) {
      // Named only when it reads as a variable's name: a value pasted without its KEY= must not be echoed.
      const named = VARIABLE_NAME.test(name) ? ` (${name})` : '';
      throw new UsageError(
        `${position}${named} has no "=VALUE" and names no variable set in this environment: export it first, or write KEY=VALUE`,
      );
    }
    values[name] = fromEnv;
  }
  return values;
}
