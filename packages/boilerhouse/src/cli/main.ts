/** The `boilerhouse` command (also `bh`): the list of commands and the process's entry point. */
import { basename } from 'node:path';
import { backup } from './backup.ts';
import { restore } from './backup-restore.ts';
import { DEFAULT_URL } from './client.ts';
import { type Command, twoColumns, usageLine } from './command.ts';
import { events } from './events.ts';
import { instancesGroup } from './instances.ts';
import type { Io } from './io.ts';
import { logs } from './logs.ts';
import { poolsGroup } from './pools.ts';
import { dispatch, type Entry, isGroup } from './run.ts';
import { secretsGroup } from './secrets.ts';
import { serve } from './serve.ts';
import { snapshotsGroup } from './snapshots.ts';
import { status } from './status.ts';
import { claim, release, tenantGroup, tenants } from './tenants.ts';
import { tokensGroup } from './tokens.ts';
import { upgrade } from './upgrade.ts';
import { workloadGroup } from './workload.ts';

export type { Io } from './io.ts';

/** Every command, in the order the top-level help lists them. */
const ENTRIES: Entry[] = [
  serve,
  status,
  {
    ...workloadGroup,
    summary: 'check, list, apply, delete and upgrade workloads',
    commands: [...workloadGroup.commands, upgrade],
  },
  poolsGroup,
  claim,
  release,
  tenants,
  tenantGroup,
  snapshotsGroup,
  secretsGroup,
  instancesGroup,
  logs,
  events,
  tokensGroup,
  backup,
  restore,
];

/** Every command, groups' commands in their place. */
export const COMMANDS: readonly Command[] = ENTRIES.flatMap((entry) =>
  isGroup(entry) ? entry.commands : [entry],
);

function usage(prog: string): string {
  const commands = COMMANDS;
  const rows = commands.map(
    (command: Command) =>
      [
        usageLine('', command)
          .replace(/ \[options\]$/, '')
          .trim(),
        command.summary,
      ] as const,
  );
  return [
    `usage: ${prog} <command> [options]`,
    '',
    'Boilerhouse keeps warm containers per workload and hands them to tenants. This command runs the',
    'daemon (serve) and drives it through its HTTP API.',
    '',
    'commands:',
    ...twoColumns(rows),
    '',
    'options of every API command:',
    ...twoColumns([
      ['--url URL', `the API address (default: $BOILERHOUSE_URL, else ${DEFAULT_URL})`],
      ['--token TOKEN', 'the API token (default: $BOILERHOUSE_TOKEN)'],
      ['--json', "print the API's JSON instead of a table"],
      ['-h, --help', 'help for any command or group, with examples'],
    ]),
    '',
    'examples:',
    `  ${prog} serve`,
    `  ${prog} workload apply workloads/echo.yaml`,
    `  ${prog} claim alice --workload echo`,
    `  ${prog} status`,
    `  ${prog} release alice --workload echo`,
    '',
    'Exit status: 0 success, 1 failure (the reason on one line of stderr), 2 usage error.',
    '',
  ].join('\n');
}

/** Runs one command line and returns the exit code: 0 success, 1 failure, 2 usage error. */
export function runCli(args: string[], io: Io): Promise<number> {
  return dispatch(args, io, ENTRIES, usage);
}

if (import.meta.main) {
  // bin/bh and bin/boilerhouse set argv[0] to their own name (`exec -a`), so messages use the name typed.
  const prog = basename(process.argv0) === 'bh' ? 'bh' : 'boilerhouse';
  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    prog,
    errIsTty: process.stderr.isTTY === true,
  };
  process.exitCode = await runCli(process.argv.slice(2), io).catch((error: Error) => {
    io.err(`${prog}: ${error.message}\n`);
    return 1;
  });
}
