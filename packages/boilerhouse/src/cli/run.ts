/**
 * Finds the command a command line names, parses its arguments and runs it, turning every way it can end
 * into an exit code: 0 success, 1 failure (one line on stderr), 2 usage error (the reason and the usage).
 */
import { ApiClient, ApiError, DEFAULT_URL } from './client.ts';
import {
  type Command,
  type Context,
  commandHelp,
  type Group,
  groupHelp,
  type ParsedArgs,
  parseCommandArgs,
  UsageError,
  usageLine,
} from './command.ts';
import { failureLine } from './failure.ts';
import type { Io } from './io.ts';

export type Entry = Command | Group;

export function isGroup(entry: Entry): entry is Group {
  return 'commands' in entry;
}

const HELP_WORDS = new Set(['--help', '-h']);

/** Runs one command line against the registry; `usage` is the top-level help. */
export async function dispatch(
  args: string[],
  io: Io,
  entries: Entry[],
  usage: (prog: string) => string,
): Promise<number> {
  const prog = io.prog ?? 'boilerhouse';
  const [first, ...rest] = args;
  if (first === undefined) {
    io.err(usage(prog));
    return 2;
  }
  if (HELP_WORDS.has(first)) {
    io.out(usage(prog));
    return 0;
  }
  if (first === 'help') {
    // `help claim` and `help workload apply` are `claim --help` and `workload apply --help`.
    if (rest.length > 0) return dispatch([...rest, '--help'], io, entries, usage);
    io.out(usage(prog));
    return 0;
  }
  const entry = entries.find((candidate) =>
    isGroup(candidate) ? candidate.name === first : candidate.path[0] === first,
  );
  if (entry === undefined) {
    io.err(`${prog}: unknown command "${first}"\n\n${usage(prog)}`);
    return 2;
  }
  if (!isGroup(entry)) return runCommand(entry, rest, io);
  const [action, ...actionArgs] = rest;
  if (action !== undefined && HELP_WORDS.has(action)) {
    io.out(groupHelp(prog, entry));
    return 0;
  }
  const command = entry.commands.find((candidate) => candidate.path[1] === action);
  if (command === undefined) {
    const reason = action === undefined ? 'name a command' : `unknown command "${action}"`;
    io.err(`${prog} ${entry.name}: ${reason}\n\n${groupHelp(prog, entry)}`);
    return 2;
  }
  return runCommand(command, actionArgs, io);
}

export async function runCommand(command: Command, args: string[], io: Io): Promise<number> {
  const prog = io.prog ?? 'boilerhouse';
  let parsed: ParsedArgs;
  try {
    parsed = parseCommandArgs(command, args);
  } catch (error) {
    return usageFailure(prog, command, error as Error, io);
  }
  if (parsed.values.help === true) {
    io.out(commandHelp(prog, command));
    return 0;
  }
  let client: ApiClient | undefined;
  const context = makeContext(command, parsed, io, prog, () => {
    client ??= new ApiClient({
      url: stringValue(parsed, 'url') ?? io.env.BOILERHOUSE_URL ?? DEFAULT_URL,
      token: stringValue(parsed, 'token') ?? io.env.BOILERHOUSE_TOKEN,
      signal: io.signal,
    });
    return client;
  });
  try {
    return await command.run(context);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(prog, command, error, io);
    // A `--follow` ended by its signal (Ctrl-C, or a test) is a normal end.
    if (io.signal?.aborted && (error as Error).name === 'AbortError') return 0;
    if (error instanceof ApiError) {
      if (context.json && error.body !== undefined) io.out(`${JSON.stringify(error.body, null, 2)}\n`);
      else for (const detail of error.details) io.out(`${detail.path}: ${detail.message}\n`);
    }
    io.err(failureLine(prog, context.label, error, { tokenSent: client?.hasToken ?? false }));
    return 1;
  }
}

function usageFailure(prog: string, command: Command, error: Error, io: Io): number {
  if (!(error instanceof UsageError)) throw error;
  const name = [prog, ...command.path].join(' ');
  io.err(
    `${name}: ${error.message}\nusage: ${usageLine(prog, command)}\nRun "${name} --help" for its options and examples.\n`,
  );
  return 2;
}

function makeContext(
  command: Command,
  parsed: ParsedArgs,
  io: Io,
  prog: string,
  client: () => ApiClient,
): Context {
  return {
    io,
    prog,
    positionals: parsed.positionals,
    label: [...command.path, ...parsed.positionals.slice(0, 1)].join(' '),
    json: parsed.values.json === true,
    string: (name) => stringValue(parsed, name),
    required(name) {
      const value = stringValue(parsed, name);
      if (value === undefined) throw new UsageError(`--${name} is required`);
      return value;
    },
    strings(name) {
      const value = parsed.values[name];
      if (Array.isArray(value)) return value;
      return typeof value === 'string' ? [value] : [];
    },
    flag: (name) => parsed.values[name] === true,
    integer(name) {
      const value = stringValue(parsed, name);
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
      return Number(value);
    },
    client,
  };
}

function stringValue(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}
