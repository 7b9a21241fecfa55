/**
 * `secrets set|list|delete`: a tenant's secrets for a workload. Values go to the daemon and are never
 * printed: output, errors and `--json` carry key names only.
 */
import { readFile } from 'node:fs/promises';
import type { SecretsSet } from './api-types.ts';
import { path } from './client.ts';
import { type Command, type Group, type OptionSpec, UsageError } from './command.ts';
import { parseAssignments, parseEnvFile } from './env-file.ts';
import { relativeTime } from './format.ts';
import { print } from './output.ts';
import { formatTable } from './table.ts';

const WORKLOAD: OptionSpec = { type: 'string', value: 'W', required: true, description: 'the workload' };

interface SecretNames {
  tenant: string;
  secrets: Array<{ workload: string; keys: string[]; updated_at: string }>;
}

const set: Command = {
  path: ['secrets', 'set'],
  args: 'TENANT [KEY=VALUE...]',
  summary: "set a tenant's secrets for a workload (values never shown)",
  description:
    "Stores TENANT's secrets for workload W, replacing the ones stored before; they reach the tenant's\n" +
    'instance at claim, in its secrets volume. KEY=VALUE arguments, a bare KEY (its value taken from this\n' +
    "shell's environment, so it stays out of shell history), and --from-env-file FILE (KEY=VALUE lines) can be\n" +
    'combined; arguments win over the file. Values are never printed.',
  options: {
    workload: WORKLOAD,
    'from-env-file': { type: 'string', value: 'FILE', description: 'read KEY=VALUE lines from FILE' },
  },
  api: true,
  examples: [
    'secrets set alice --workload nanoclaw ANTHROPIC_API_KEY=sk-...',
    'secrets set alice --workload nanoclaw ANTHROPIC_API_KEY   # value from $ANTHROPIC_API_KEY',
    'secrets set alice --workload nanoclaw --from-env-file alice.env',
  ],
  async run(context) {
    const [tenant, ...assignments] = context.positionals as [string, ...string[]];
    const workload = context.required('workload');
    const file = context.string('from-env-file');
    const values = {
      ...(file === undefined ? {} : parseEnvFile(await readEnvFile(file), file)),
      ...parseAssignments(assignments, context.io.env, 1),
    };
    if (Object.keys(values).length === 0) {
      throw new UsageError('give at least one KEY=VALUE, or --from-env-file FILE');
    }
    const body = await context
      .client()
      .request<SecretsSet>('PUT', path`/tenants/${tenant}/secrets`, { json: { workload, values } });
    print(context, body, (stored) => {
      const n = stored.keys.length;
      return `stored ${n} secret${n === 1 ? '' : 's'} of ${stored.tenant} for ${stored.workload}: ${stored.keys.join(', ')}\n`;
    });
    return 0;
  },
};

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
  commands: [set, list, remove],
};
