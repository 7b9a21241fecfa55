/**
 * `secrets set|list|delete`: a tenant's secrets for a workload. Values go to the daemon and are never
 * printed: output, errors and `--json` carry key names only.
 */

import { readFile } from 'node:fs/promises';
import { envFileValues } from '@boilerhouse/kit/env-file';
import type { SecretsSet } from './api-types.ts';
import { parseAssignments } from './assignments.ts';
import { path } from './client.ts';
import { type Command, type Group, type OptionSpec, UsageError } from './command.ts';
import { relativeTime } from './format.ts';
import { print } from './output.ts';
import { formatTable } from './table.ts';

const WORKLOAD: OptionSpec = { type: 'string', value: 'W', required: true, description: 'the workload' };

interface SecretNames {
  tenant: string;
  secrets: Array<{ workload: string; keys: string[]; updated_at: string }>;
}

/** The values a `set` or `replace` gives: KEY=VALUE arguments, bare KEYs from the environment, a file. */
async function valuesGiven(context: Parameters<Command['run']>[0], assignments: string[]) {
  const file = context.string('from-env-file');
  const values = {
    ...(file === undefined ? {} : envFileValues(await readEnvFile(file), file)),
    ...parseAssignments(assignments, context.io.env, 1),
  };
  if (Object.keys(values).length === 0) {
    throw new UsageError('give at least one KEY=VALUE, or --from-env-file FILE');
  }
  return values;
}

const GIVING_VALUES =
  "KEY=VALUE arguments, a bare KEY (its value taken from this shell's environment, so it stays out of\n" +
  'shell history), and --from-env-file FILE (KEY=VALUE lines) can be combined; arguments win over the\n' +
  'file. Values are never printed.';

const VALUE_OPTIONS: Record<string, OptionSpec> = {
  workload: WORKLOAD,
  'from-env-file': { type: 'string', value: 'FILE', description: 'read KEY=VALUE lines from FILE' },
};

const set: Command = {
  path: ['secrets', 'set'],
  args: 'TENANT [KEY=VALUE...]',
  summary: "add or change some of a tenant's secrets for a workload, keeping the others",
  description:
    'Stores the given secrets of TENANT for workload W: a name already stored gets the new value, the others\n' +
    "stay as they are (`secrets replace` replaces the whole set). They reach the tenant's instance at claim,\n" +
    `in its secrets volume. ${GIVING_VALUES}`,
  options: VALUE_OPTIONS,
  api: true,
  examples: [
    'secrets set alice --workload nanoclaw ANTHROPIC_API_KEY=sk-...',
    'secrets set alice --workload nanoclaw ANTHROPIC_API_KEY   # value from $ANTHROPIC_API_KEY',
    'secrets set alice --workload nanoclaw --from-env-file alice.env',
  ],
  async run(context) {
    const [tenant, ...assignments] = context.positionals as [string, ...string[]];
    const workload = context.required('workload');
    const values = await valuesGiven(context, assignments);
    const body = await context
      .client()
      .request<SecretsSet>('PATCH', path`/tenants/${tenant}/secrets`, { json: { workload, set: values } });
    print(context, body, (stored) => `${storedLine('set', Object.keys(values), stored)}\n`);
    return 0;
  },
};

const replace: Command = {
  path: ['secrets', 'replace'],
  args: 'TENANT [KEY=VALUE...]',
  summary: "replace a tenant's whole set of secrets for a workload",
  description: `Stores exactly the given secrets of TENANT for workload W; any other name stored before is removed. ${GIVING_VALUES}`,
  options: VALUE_OPTIONS,
  api: true,
  examples: ['secrets replace alice --workload nanoclaw --from-env-file alice.env'],
  async run(context) {
    const [tenant, ...assignments] = context.positionals as [string, ...string[]];
    const workload = context.required('workload');
    const values = await valuesGiven(context, assignments);
    const body = await context
      .client()
      .request<SecretsSet>('PUT', path`/tenants/${tenant}/secrets`, { json: { workload, values } });
    print(context, body, (stored) => `${storedLine('replaced the set with', Object.keys(values), stored)}\n`);
    return 0;
  },
};

const unset: Command = {
  path: ['secrets', 'unset'],
  args: 'TENANT KEY...',
  summary: "remove some of a tenant's secrets for a workload, keeping the others",
  options: { workload: WORKLOAD },
  api: true,
  examples: ['secrets unset alice --workload nanoclaw TELEGRAM_BOT_TOKEN'],
  async run(context) {
    const [tenant, ...names] = context.positionals as [string, ...string[]];
    if (names.length === 0) throw new UsageError('name at least one KEY to remove');
    const workload = context.required('workload');
    const body = await context
      .client()
      .request<SecretsSet>('PATCH', path`/tenants/${tenant}/secrets`, { json: { workload, remove: names } });
    print(context, body, (stored) => `${storedLine('removed', names, stored)}\n`);
    return 0;
  },
};

/** "set 2 secrets of alice for nanoclaw (A, B); stored now: A, B, C": what changed, and the whole set. */
function storedLine(did: string, names: string[], stored: SecretsSet): string {
  const n = names.length;
  const now = stored.keys.length === 0 ? 'none' : stored.keys.join(', ');
  const line = `${did} ${n} secret${n === 1 ? '' : 's'} of ${stored.tenant} for ${stored.workload} (${names.join(', ')}); stored now: ${now}`;
  if (stored.shadowed.length === 0) return line;
  return `${line}\nwarning: workload ${stored.workload}'s environment sets ${stored.shadowed.join(', ')} too; a workload that reads its environment first (NanoClaw does) never sees the tenant's value`;
}

const list: Command = {
  path: ['secrets', 'list'],
  args: 'TENANT',
  summary: "list the names of a tenant's secrets, per workload",
  options: {},
  api: true,
  examples: ['secrets list alice'],
  async run(context) {
    const [tenant] = context.positionals as [string];
    const body = await context.client().request<SecretNames>('GET', path`/tenants/${tenant}/secrets`);
    print(context, body, (names) =>
      formatTable(
        [
          { header: 'workload', value: (s) => s.workload },
          { header: 'keys', value: (s) => s.keys.join(', ') },
          { header: 'updated', value: (s) => relativeTime(s.updated_at) },
        ],
        names.secrets,
        `tenant ${names.tenant} has no secrets`,
      ),
    );
    return 0;
  },
};

const remove: Command = {
  path: ['secrets', 'delete'],
  args: 'TENANT',
  summary: "delete a tenant's secrets for a workload",
  options: { workload: WORKLOAD },
  api: true,
  examples: ['secrets delete alice --workload nanoclaw'],
  async run(context) {
    const [tenant] = context.positionals as [string];
    const workload = context.required('workload');
    await context.client().request<void>('DELETE', path`/tenants/${tenant}/secrets`, { query: { workload } });
    if (!context.json) context.io.out(`deleted ${tenant}'s secrets for ${workload}\n`);
    return 0;
  },
};

async function readEnvFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export const secretsGroup: Group = {
  name: 'secrets',
  summary: "set, list and delete tenants' secrets",
  commands: [set, replace, unset, list, remove],
};
