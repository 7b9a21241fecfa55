/**
 * `workload validate|schema` (local: no daemon needed) and `workload list|apply|delete` (through the API).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  declaredWorkloadId,
  formatProblem,
  loadWorkload,
  workloadEnvironment,
  workloadJsonSchema,
} from '@boilerhouse/spec';
import type { WorkloadApplied, WorkloadList, WorkloadSummary } from './api-types.ts';
import { ApiError, path } from './client.ts';
import type { Command, Group } from './command.ts';
import { print } from './output.ts';
import { problemsText } from './problems.ts';
import { withProgress } from './progress.ts';
import { formatTable } from './table.ts';

const validate: Command = {
  path: ['workload', 'validate'],
  args: 'FILE...',
  summary: 'check workload files without a daemon',
  description:
    'Checks workload files as the daemon would, without one. Prints FILE:LINE:COL PATH: MESSAGE per problem\n' +
    'on stdout and a summary on stderr; exits 1 when any file has an error (warnings alone pass).\n' +
    '${VAR} in a file is filled from this environment, as the daemon fills it from its own: only the variables\n' +
    'BOILERHOUSE_WORKLOAD_ENV lists (names, or NAME_* prefixes) are read; any other is refused.',
  options: {},
  api: false,
  examples: ['workload validate workloads/*.yaml'],
  async run({ io, positionals }) {
    // The daemon's rule, with the same setting: a file valid here is valid there under the same environment.
    const env = workloadEnvironment(io.env);
    let failed = 0;
    for (const file of positionals) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        io.out(`${file}: cannot read the file: ${readFailure(error as NodeJS.ErrnoException)}\n`);
        failed++;
        continue;
      }
      const result = loadWorkload(text, { file, env });
      for (const problem of result.problems) io.out(`${formatProblem(file, problem)}\n`);
      if (result.spec === undefined) failed++;
    }
    const valid = positionals.length - failed;
    io.err(`${valid} of ${positionals.length} workload file${positionals.length === 1 ? '' : 's'} valid\n`);
    return failed === 0 ? 0 : 1;
  },
};

const schema: Command = {
  path: ['workload', 'schema'],
  args: '',
  summary: 'print the JSON Schema of workload files',
  description:
    'Prints the JSON Schema of workload files, for editors (yaml-language-server) and other tools.',
  options: {},
  api: false,
  examples: ['workload schema > workload.schema.json'],
  async run({ io }) {
    io.out(`${JSON.stringify(workloadJsonSchema(), null, 2)}\n`);
    return 0;
  },
};

const list: Command = {
  path: ['workload', 'list'],
  args: '',
  summary: 'list the workloads the daemon serves, and the problems of their files',
  description:
    'Lists the workloads, then what keeps files of the workloads directory from being served as written\n' +
    '(PROBLEMS): a file that does not load (its previous version, if any, is kept), one that repeats\n' +
    "another's id, a sink that cannot be used; each with its errors as FILE:LINE:COL PATH: MESSAGE.",
  options: {},
  api: true,
  examples: ['workload list', 'workload list --json'],
  async run(context) {
    const body = await context.client().request<WorkloadList>('GET', '/workloads');
    print(context, body, ({ workloads, problems }) => {
      const troubled = new Set(problems.map((problem) => problem.workload));
      const state = (w: WorkloadSummary) =>
        `${w.removed ? 'removed' : 'active'}${troubled.has(w.id) ? ', see problems' : ''}`;
      const table = formatTable(
        [
          { header: 'id', value: (w) => w.id },
          { header: 'name', value: (w) => w.name },
          { header: 'image', value: (w) => w.image },
          { header: 'version', value: (w) => w.version },
          { header: 'min idle', value: (w) => w.min_idle },
          { header: 'max size', value: (w) => w.max_size },
          { header: 'state', value: state },
        ],
        workloads,
        'no workloads (add one with "workload apply FILE")',
      );
      return problems.length === 0 ? table : `${table}\n${problemsText(problems)}`;
    });
    return 0;
  },
};

const apply: Command = {
  path: ['workload', 'apply'],
  args: 'FILE',
  summary: 'create or update a workload from its file',
  description:
    'Sends a workload file to the daemon, which validates it with its own environment, tries its S3 sink\n' +
    '(one listing, at most 5 s), and creates the workload or updates it (idle instances of the old version\n' +
    "are replaced). The id is the file's `id:`; --id applies the same file as another workload (a staging\n" +
    'copy, say): the id sent is the one given. Problems print as FILE:LINE:COL PATH: MESSAGE on stdout, as\n' +
    "`workload validate` prints them, warnings too (and images not on the daemon's host, which leave the\n" +
    'pool unable to fill until built). Exits 1 when the file has an error or its sink refuses the\n' +
    'credentials, has no such bucket or does not answer (nothing is applied then); warnings alone pass.',
  options: {
    id: { type: 'string', value: 'ID', description: "the workload's id (default: the file's `id:`)" },
  },
  api: true,
  examples: ['workload apply workloads/echo.yaml', 'workload apply my-echo.yaml --id echo-staging'],
  async run(context) {
    const [file] = context.positionals as [string];
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${readFailure(error as NodeJS.ErrnoException)}`);
    }
    const json = extname(file) === '.json';
    const asId = context.string('id');
    const id = asId ?? declaredWorkloadId(text);
    if (id === undefined) throw new Error(`${file} has no top-level "id:"; add one or pass --id`);
    if (asId !== undefined) text = withId(text, json, asId);
    const request = context.client().request<WorkloadApplied>('PUT', path`/workloads/${id}`, {
      text: { body: text, contentType: json ? 'application/json' : 'application/yaml' },
    });
    const body = await withProgress(context.io, `applying ${file}`, request).catch((error: unknown) => {
      throw error instanceof ApiError ? withLocalFile(error, file) : error;
    });
    print(context, body, (applied) => {
      const warnings = applied.warnings.map(
        (warning) => `${onLocalFile(warning.path, file)}: warning: ${warning.message}\n`,
      );
      const done = `${applied.created ? 'created' : 'updated'} workload ${applied.id} (version ${applied.version})\n`;
      return `${warnings.join('')}${done}`;
    });
    return 0;
  },
};

const remove: Command = {
  path: ['workload', 'delete'],
  args: 'ID',
  summary: 'stop serving a workload',
  description:
    'Removes a workload: no new instances; idle ones are destroyed. Refused (409) while tenants still hold\n' +
    'instances of it, unless --force, which releases them first (their state is saved).',
  options: { force: { type: 'boolean', description: 'delete even while tenants hold instances' } },
  api: true,
  examples: ['workload delete echo', 'workload delete echo --force'],
  async run(context) {
    const [id] = context.positionals as [string];
    const request = context.client().request<void>('DELETE', path`/workloads/${id}`, {
      query: { force: context.flag('force') ? 'true' : undefined },
    });
    await withProgress(context.io, `deleting workload ${id}`, request);
    if (!context.json) context.io.out(`deleted workload ${id}\n`);
    return 0;
  },
};

export const workloadGroup: Group = {
  name: 'workload',
  summary: 'check, list, apply and delete workloads',
  commands: [validate, schema, list, apply, remove],
};

/** The file's text with its top-level `id:` set to `id` (added first when it has none). */
export function withId(text: string, json: boolean, id: string): string {
  if (json) return `${JSON.stringify({ ...(JSON.parse(text) as object), id }, null, 2)}\n`;
  const line = /^id:.*$/m;
  return line.test(text)
    ? text.replace(line, `id: ${JSON.stringify(id)}`)
    : `id: ${JSON.stringify(id)}\n${text}`;
}

/** The daemon names problems by its own copy of the file; name them by the file the user has. */
function withLocalFile(error: ApiError, file: string): ApiError {
  const details = error.details.map((detail) => ({ ...detail, path: onLocalFile(detail.path, file) }));
  return new ApiError(error.status, error.code, error.message, error.requestId, details, error.body);
}

/** `echo.yaml:4:13 pool.min_idle` or `echo.yaml image` (no place), with the user's file for the daemon's. */
function onLocalFile(path: string, file: string): string {
  const placed = /^[^\s:]+:(\d+):(\d+)(\s.*)?$/s.exec(path);
  if (placed !== null) return `${file}:${placed[1]}:${placed[2]}${placed[3] ?? ''}`;
  const field = /^[^\s:]+(\s.*)$/s.exec(path);
  return field === null ? path : `${file}${field[1]}`;
}

function readFailure(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return 'no such file';
  if (error.code === 'EISDIR') return 'it is a directory';
  if (error.code === 'EACCES') return 'permission denied';
  return error.message;
}
