/** `tokens create|list|revoke`: API tokens with scopes, optionally limited to tenants and workloads (admin only). */
import { parseDuration, UnitError } from '@boilerhouse/spec';
import type { TokenCreated, TokenSummary } from './api-types.ts';
import { path } from './client.ts';
import { type Command, type Group, UsageError } from './command.ts';
import { clockTime, relativeTime } from './format.ts';
import { printJson } from './output.ts';
import { formatTable } from './table.ts';

const SCOPES = 'read, tenants:claim, tenants:write, workloads:write, admin';

const create: Command = {
  path: ['tokens', 'create'],
  args: 'NAME',
  summary: 'make a token with some scopes, optionally for some tenants and workloads only (shown once)',
  description:
    `Makes an API token named NAME (what it is for) with the given scopes: ${SCOPES}.\n` +
    'With --tenant or --workload it may act on and see only those tenants and workloads (a front end\n' +
    'acting for one tenant); an admin token cannot be limited.\n' +
    'The token goes to stdout, alone, so a script can capture it; what it can do goes to stderr. It is\n' +
    'shown only this once: the daemon keeps a hash.',
  options: {
    scope: { type: 'string', multiple: true, value: 'S', required: true, description: `a scope: ${SCOPES}` },
    tenant: {
      type: 'string',
      multiple: true,
      value: 'T',
      description: 'limit the token to this tenant (default: every tenant)',
    },
    workload: {
      type: 'string',
      multiple: true,
      value: 'W',
      description: 'limit the token to this workload (default: every workload)',
    },
    'expires-in': {
      type: 'string',
      value: 'DURATION',
      description: 'expire after this long: 90m, 12h, 30d (default: never)',
    },
  },
  api: true,
  examples: [
    'tokens create ci --scope read --scope tenants:claim --expires-in 30d',
    'tokens create deploy --scope workloads:write',
    'tokens create alice-web --scope tenants:claim --scope read --tenant alice --workload nanoclaw',
  ],
  async run(context) {
    const [name] = context.positionals as [string];
    const expires = context.string('expires-in');
    const body: Record<string, unknown> = { name, scopes: context.strings('scope') };
    if (expires !== undefined) body.expires_in_seconds = seconds(expires);
    if (context.strings('tenant').length > 0) body.tenants = context.strings('tenant');
    if (context.strings('workload').length > 0) body.workloads = context.strings('workload');
    const created = await context.client().request<TokenCreated>('POST', '/tokens', { json: body });
    if (context.json) {
      printJson(context, created);
      return 0;
    }
    context.io.out(`${created.token}\n`);
    const expiry = created.expires_at === null ? 'never expires' : `expires ${clockTime(created.expires_at)}`;
    context.io.err(
      `created token ${created.id} "${created.name}" (scopes: ${created.scopes.join(', ')}; ` +
        `reaches ${reach(created)}; ${expiry}); ` +
        'it is shown only now: store it (e.g. as BOILERHOUSE_TOKEN)\n',
    );
    return 0;
  },
};

const list: Command = {
  path: ['tokens', 'list'],
  args: '',
  summary: 'list tokens and what each may reach (never the tokens themselves)',
  options: {},
  api: true,
  examples: ['tokens list'],
  async run(context) {
    const body = await context.client().request<{ tokens: TokenSummary[] }>('GET', '/tokens');
    if (context.json) printJson(context, body);
    else
      context.io.out(
        formatTable(
          [
            { header: 'id', value: (t) => t.id },
            { header: 'name', value: (t) => t.name },
            { header: 'scopes', value: (t) => t.scopes.join(',') },
            { header: 'tenants', value: (t) => t.tenants?.join(',') ?? 'all' },
            { header: 'workloads', value: (t) => t.workloads?.join(',') ?? 'all' },
            { header: 'created', value: (t) => clockTime(t.created_at) },
            {
              header: 'expires',
              value: (t) => (t.expires_at === null ? 'never' : relativeTime(t.expires_at)),
            },
            {
              header: 'last used',
              value: (t) => (t.last_used_at === null ? 'never' : relativeTime(t.last_used_at)),
            },
          ],
          body.tokens,
          'no tokens',
        ),
      );
    return 0;
  },
};

const revoke: Command = {
  path: ['tokens', 'revoke'],
  args: 'ID',
  summary: 'revoke a token; it stops working at once',
  options: {},
  api: true,
  examples: ['tokens revoke 3f2a9c01de4b'],
  async run(context) {
    const [id] = context.positionals as [string];
    await context.client().request<void>('DELETE', path`/tokens/${id}`);
    if (!context.json) context.io.out(`revoked token ${id}\n`);
    return 0;
  },
};

/** `tenants alice and workloads nanoclaw`, or `every tenant and workload`. */
function reach(token: TokenSummary): string {
  const parts = [
    token.tenants === null ? undefined : `tenants ${token.tenants.join(', ')}`,
    token.workloads === null ? undefined : `workloads ${token.workloads.join(', ')}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'every tenant and workload' : `only ${parts.join(' and ')}`;
}

/** `30d` -> 2592000; a bare number is seconds. */
function seconds(text: string): number {
  try {
    const ms = parseDuration(text, 's');
    if (ms < 1000) throw new UnitError('at least a second');
    return Math.round(ms / 1000);
  } catch (error) {
    if (!(error instanceof UnitError)) throw error;
    throw new UsageError(`--expires-in must be a duration such as 90m, 12h or 30d, got "${text}"`);
  }
}

export const tokensGroup: Group = {
  name: 'tokens',
  summary: 'make, list and revoke API tokens (admin)',
  commands: [create, list, revoke],
};
