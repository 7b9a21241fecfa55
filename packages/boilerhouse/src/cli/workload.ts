/** `boilerhouse workload validate FILE...` and `boilerhouse workload schema`. */
import { readFile } from 'node:fs/promises';
import { formatProblem, loadWorkload, workloadJsonSchema } from '@boilerhouse/spec';
import type { Io } from './main.ts';

export async function runWorkloadCommand(args: string[], io: Io, usage: string): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'validate') {
    if (rest.length === 0) {
      io.err(`boilerhouse workload validate: name at least one workload file\n\n${usage}`);
      return 2;
    }
    return validateFiles(rest, io);
  }
  if (action === 'schema' && rest.length === 0) {
    io.out(`${JSON.stringify(workloadJsonSchema(), null, 2)}\n`);
    return 0;
  }
  io.err(`boilerhouse workload: unknown action "${action ?? ''}"\n\n${usage}`);
  return 2;
}

/** Prints every problem of every file; exit code 1 when any file has an error (warnings alone pass). */
async function validateFiles(files: string[], io: Io): Promise<number> {
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      io.out(`${file}: cannot read the file: ${readFailure(error as NodeJS.ErrnoException)}\n`);
      failed++;
      continue;
    }
    const result = loadWorkload(text, { file, env: io.env });
    for (const problem of result.problems) io.out(`${formatProblem(file, problem)}\n`);
    if (result.spec === undefined) failed++;
  }
  const valid = files.length - failed;
  io.err(`${valid} of ${files.length} workload file${files.length === 1 ? '' : 's'} valid\n`);
  return failed === 0 ? 0 : 1;
}

function readFailure(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return 'no such file';
  if (error.code === 'EISDIR') return 'it is a directory';
  if (error.code === 'EACCES') return 'permission denied';
  return error.message;
}
