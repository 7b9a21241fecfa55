/**
 * Reads `KEY=VALUE` arguments for `secrets set`. Error messages name an argument's position, never a value,
 * since the values are secrets. (`--from-env-file` is read by @boilerhouse/kit/env-file, the reader of the
 * files the daemon writes.)
 */
import { UsageError } from './command.ts';

/** What an environment variable's name looks like, as people write them: upper case. */
const VARIABLE_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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
