/** The `boilerhouse` command: dispatches to one module per command group. */
import { runServe } from './serve.ts';
import { runWorkloadCommand } from './workload.ts';

const USAGE = `usage: boilerhouse <command>

commands:
  serve                       run the daemon (BOILERHOUSE_DATA_DIR, BOILERHOUSE_WORKLOADS_DIR,
                              BOILERHOUSE_HOST=127.0.0.1, BOILERHOUSE_PORT=7070)
  workload validate FILE...   check workload files; prints FILE:LINE:COL PATH: MESSAGE per problem
  workload schema             print the JSON Schema of workload files
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** Runs one command line and returns the exit code: 0 success, 1 failure, 2 usage error. */
export async function runCli(args: string[], io: Io): Promise<number> {
  const [group, ...rest] = args;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    io.out(USAGE);
    return group === undefined ? 2 : 0;
  }
  if (group === 'workload') return runWorkloadCommand(rest, io, USAGE);
  if (group === 'serve') return runServe(rest, io);
  io.err(`boilerhouse: unknown command "${group}"\n\n${USAGE}`);
  return 2;
}

if (import.meta.main) {
  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  };
  process.exitCode = await runCli(process.argv.slice(2), io).catch((error: Error) => {
    io.err(`boilerhouse: ${error.message}\n`);
    return 1;
  });
}
