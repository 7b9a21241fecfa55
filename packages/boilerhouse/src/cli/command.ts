/**
 * What a command is, how its arguments are parsed (node:util parseArgs) and how its help reads. Every
 * command and group of the CLI is declared with these types; `run.ts` runs them.
 */
import { parseArgs } from 'node:util';
import type { ApiClient } from './client.ts';
import type { Io } from './io.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The option may be given more than once (`--scope read --scope admin`). */
  multiple?: boolean;
  short?: string;
  /** The value's name in help: `--workload W`. */
  value?: string;
  required?: boolean;
  description: string;
}

export interface Command {
  /** The words that select the command: `['snapshots', 'restore']`. */
  path: string[];
  /** Positional arguments as help shows them: `TENANT SEQ`, `[FILE]` optional, `KEY=VALUE...` repeatable. */
  args: string;
  /** One line, for the group's list. */
  summary: string;
  /** A paragraph for `--help`. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** The command talks to the API: it takes --url, --token and (unless `json` is false) --json. */
  api: boolean;
  json?: false;
  /** Command lines without the program name: `claim alice --workload echo`. */
  examples: string[];
  run(context: Context): Promise<number>;
}

export interface Group {
  name: string;
  summary: string;
  commands: Command[];
}

/** A problem with the command line itself: exit 2 with the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Everything a command's `run` gets: its arguments, the I/O and (for API commands) a client. */
export interface Context {
  io: Io;
  /** The program's name as invoked: `boilerhouse` or `bh`. */
  prog: string;
  positionals: string[];
  /** The words that name this run in a failure line: the command and its first argument (`claim alice`). */
  label: string;
  json: boolean;
  string(name: string): string | undefined;
  /** A required option's value (parsing already checked it is there). */
  required(name: string): string;
  strings(name: string): string[];
  flag(name: string): boolean;
  /** A whole-number option, or undefined when absent; anything else is a usage error. */
  integer(name: string): number | undefined;
  client(): ApiClient;
}

export const API_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: "print the API's JSON response, unchanged, instead of a table" },
  url: {
    type: 'string',
    value: 'URL',
    description: 'the API address (default: $BOILERHOUSE_URL, else http://127.0.0.1:7070)',
  },
  token: { type: 'string', value: 'TOKEN', description: 'the API token (default: $BOILERHOUSE_TOKEN)' },
};

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export function allOptions(command: Command): Record<string, OptionSpec> {
  const api: Record<string, OptionSpec> = command.api ? { ...API_OPTIONS } : {};
  if (command.json === false) delete api.json;
  return { ...command.options, ...api, help: HELP_OPTION };
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses a command's arguments; throws UsageError naming what is wrong. `--help` skips every other check. */
export function parseCommandArgs(command: Command, args: string[]): ParsedArgs {
  const options = allOptions(command);
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          {
            type: spec.type,
            ...(spec.multiple ? { multiple: true } : {}),
            ...(spec.short ? { short: spec.short } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    }) as ParsedArgs;
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error & { code?: string }));
  }
  if (parsed.values.help === true) return parsed;
  const { min, max } = positionalCounts(command.args);
  const names = command.args.split(/\s+/).filter(Boolean);
  if (parsed.positionals.length < min) {
    const missing = names[parsed.positionals.length]?.replace(/\.\.\.$/, '') ?? 'an argument';
    throw new UsageError(`missing ${missing}`);
  }
  const empty = parsed.positionals.indexOf('');
  if (empty !== -1) {
    throw new UsageError(
      `${names[Math.min(empty, names.length - 1)]?.replace(/[[\].]/g, '') ?? 'an argument'} is empty`,
    );
  }
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  }
  for (const [name, spec] of Object.entries(options)) {
    if (spec.required && parsed.values[name] === undefined) {
      throw new UsageError(`--${name} ${spec.value ?? ''} is required`.replace('  ', ' '));
    }
  }
  return parsed;
}

function parseArgsMessage(error: Error & { code?: string }): string {
  // parseArgs explains itself at length ("To specify an option argument starting with a dash use ..."): keep
  // the first sentence.
  const first = error.message.split('\n')[0] ?? error.message;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(first)?.[1];
    return option === undefined ? first : `unknown option ${option}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /'(--?[\w-]+)/.exec(first)?.[1];
    if (option !== undefined && first.includes('argument missing')) return `${option} needs a value`;
    if (option !== undefined && first.includes('does not take')) return `${option} takes no value`;
  }
  return first.split('. ')[0] ?? first;
}

/** `TENANT SEQ` -> 2..2, `[FILE]` -> 0..1, `KEY=VALUE...` -> 0..Infinity (options may supply the values). */
export function positionalCounts(args: string): { min: number; max: number } {
  let min = 0;
  let max = 0;
  for (const word of args.split(/\s+/).filter(Boolean)) {
    const optional = word.startsWith('[');
    const repeated = word.endsWith('...') || word.endsWith('...]');
    if (!optional) min++;
    max = repeated ? Number.POSITIVE_INFINITY : max + 1;
  }
  return { min, max };
}

export function usageLine(prog: string, command: Command): string {
  const required = Object.entries(command.options)
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => `--${name} ${spec.value ?? ''}`.trim());
  return [prog, ...command.path, command.args, ...required, '[options]'].filter(Boolean).join(' ');
}

export function commandHelp(prog: string, command: Command): string {
  const options = Object.entries(allOptions(command)).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    const notes = [spec.required ? 'required' : '', spec.multiple ? 'repeatable' : ''].filter(Boolean);
    return [flag, `${spec.description}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`] as const;
  });
  const lines = [
    `usage: ${usageLine(prog, command)}`,
    '',
    command.description ?? `${capitalize(command.summary)}.`,
    '',
    'options:',
    ...twoColumns(options),
  ];
  if (command.examples.length > 0) {
    lines.push('', 'examples:', ...command.examples.map((example) => `  ${exampleLine(prog, example)}`));
  }
  return `${lines.join('\n')}\n`;
}

export function groupHelp(prog: string, group: Group): string {
  const rows = group.commands.map(
    (command) => [`${command.path.slice(1).join(' ')} ${command.args}`.trim(), command.summary] as const,
  );
  const examples = group.commands.flatMap((command) => command.examples.slice(0, 1));
  return [
    `usage: ${prog} ${group.name} <command> [options]`,
    '',
    `${capitalize(group.summary)}.`,
    '',
    'commands:',
    ...twoColumns(rows),
    '',
    'examples:',
    ...examples.map((example) => `  ${exampleLine(prog, example)}`),
    '',
    `Run "${prog} ${group.name} <command> --help" for a command's options.`,
    '',
  ].join('\n');
}

/** Rows of (term, description) with the descriptions lined up, indented by two spaces. */
export function twoColumns(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([term]) => term.length));
  return rows.map(([term, description]) => `  ${term.padEnd(width)}   ${description}`);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An example as a shell line: settings it starts with (`NAME=value`) go before the program, as a shell wants them. */
export function exampleLine(prog: string, example: string): string {
  const words = example.split(' ');
  const settings = words.findIndex((word) => !/^[A-Z][A-Z0-9_]*=\S*$/.test(word));
  const at = settings === -1 ? words.length : settings;
  return [...words.slice(0, at), prog, ...words.slice(at)].join(' ');
}
