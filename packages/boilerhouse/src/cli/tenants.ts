/** `claim`, `release`, `tenants` and `tenant show`: tenants and the instances they hold. */
import type { ClaimView, ReleaseView, TenantSummary, TenantView } from './api-types.ts';
import { path } from './client.ts';
import type { Command, Group, OptionSpec } from './command.ts';
import { clockTime, millis, relativeTime } from './format.ts';
import { versionCell } from './instances.ts';
import { print } from './output.ts';
import { withProgress } from './progress.ts';
import { formatFields, formatTable } from './table.ts';

const WORKLOAD: OptionSpec = { type: 'string', value: 'W', required: true, description: 'the workload' };

const PATHS: Record<string, string> = {
  hit: 'hit (its own instance, still running with its state)',
  warm: 'warm (a ready instance from the pool)',
  cold: 'cold (a new instance was started)',
};

export const claim: Command = {
  path: ['claim'],
  args: 'TENANT',
  summary: 'give a tenant an instance of a workload',
  description:
    "Gives TENANT an instance of workload W with the tenant's state restored into it, and prints its\n" +
    'endpoints. Idempotent: claiming again returns the same instance.',
  options: { workload: WORKLOAD },
  api: true,
  examples: ['claim alice --workload echo', "claim alice --workload echo --json | jq -r '.endpoints[0].url'"],
  async run(context) {
    const [tenant] = context.positionals as [string];
    const workload = context.required('workload');
    const request = context
      .client()
      .request<ClaimView>('POST', path`/tenants/${tenant}/claim`, { json: { workload } });
    const body = await withProgress(context.io, `claiming ${workload} for ${tenant}`, request);
    print(context, body, (claimed) =>
      formatFields([
        ['tenant', claimed.tenant],
        ['workload', claimed.workload],
        ['instance', claimed.instance.id],
        ['path', PATHS[claimed.path] ?? claimed.path],
        ['took', millis(claimed.timings_ms.total)],
        ...claimed.endpoints.map((endpoint): [string, string] => [
          'endpoint',
          `${endpoint.port} -> ${endpoint.url}`,
        ]),
      ]),
    );
    return 0;
  },
};

export const release: Command = {
  path: ['release'],
  args: 'TENANT',
  summary: "save a tenant's state and give its instance back",
  description:
    "Saves TENANT's state of workload W and releases its instance. The instance is then reserved for the\n" +
    'tenant for the affinity timeout (a claim in that window gets it back as it was) or destroyed.',
  options: { workload: WORKLOAD },
  api: true,
  examples: ['release alice --workload echo'],
  async run(context) {
    const [tenant] = context.positionals as [string];
    const workload = context.required('workload');
    const request = context
      .client()
      .request<ReleaseView>('POST', path`/tenants/${tenant}/release`, { json: { workload } });
    const body = await withProgress(context.io, `releasing ${workload} for ${tenant}`, request);
    print(context, body, (released) => {
      const instance = released.instance;
      const kept =
        released.outcome === 'saving'
          ? `instance ${instance?.id ?? ''} is still saving; the save goes on (a failure shows as release_failed in bh status, and is retried)`
          : released.outcome === 'reserved' && instance !== null
            ? `instance ${instance.id} reserved for ${released.tenant} until ${clockTime(instance.reserved_until)} (${relativeTime(instance.reserved_until)})`
            : `instance ${instance?.id ?? ''} destroyed`.replace('  ', ' ');
      return `released ${released.workload} for ${released.tenant} in ${millis(released.timings_ms.total)}: ${kept}\n`;
    });
    return 0;
  },
};

export const tenants: Command = {
  path: ['tenants'],
  args: '',
  summary: 'list tenants and the instances they hold',
  options: {},
  api: true,
  examples: ['tenants', 'tenants --json'],
  async run(context) {
    const body = await context.client().request<{ tenants: TenantSummary[] }>('GET', '/tenants');
    print(context, body, ({ tenants: list }) => {
      const rows = list.flatMap(
        (tenant): Array<{ tenant: string; id?: string; workload?: string; phase?: string }> =>
          tenant.instances.length === 0
            ? [{ tenant: tenant.tenant }]
            : tenant.instances.map((instance) => ({ tenant: tenant.tenant, ...instance })),
      );
      return formatTable(
        [
          { header: 'tenant', value: (row) => row.tenant },
          { header: 'workload', value: (row) => row.workload },
          { header: 'instance', value: (row) => row.id },
          { header: 'phase', value: (row) => row.phase },
        ],
        rows,
        'no tenants hold instances',
      );
    });
    return 0;
  },
};

const show: Command = {
  path: ['tenant', 'show'],
  args: 'TENANT',
  summary: "show a tenant's instances (version, endpoints, idle release times) and upcoming wakes",
  options: {},
  api: true,
  examples: ['tenant show alice', 'tenant show alice --json'],
  async run(context) {
    const [tenant] = context.positionals as [string];
    const body = await context.client().request<TenantView>('GET', path`/tenants/${tenant}`);
    print(context, body, (view) => formatTenant(view));
    return 0;
  },
};

/** The tenant's instances, then its upcoming wakes (pool.wake) when it has any. */
export function formatTenant(view: TenantView, now = Date.now()): string {
  const instances = formatTable(
    [
      { header: 'workload', value: (i) => i.workload },
      { header: 'instance', value: (i) => i.id },
      { header: 'phase', value: (i) => i.phase },
      { header: 'version', value: versionCell },
      { header: 'claimed', value: (i) => relativeTime(i.claimed_at, now) },
      { header: 'idle release', value: (i) => relativeTime(i.idle_release_at, now) },
      { header: 'reserved until', value: (i) => relativeTime(i.reserved_until, now) },
      { header: 'endpoints', value: (i) => (i.endpoints ?? []).map((e) => e.url).join(' ') },
      { header: 'reason', value: (i) => i.reason },
    ],
    view.instances,
    `tenant ${view.tenant} holds no instances`,
  );
  if (view.wakes.length === 0) return instances;
  const wakes = formatTable(
    [
      { header: 'workload', value: (w) => w.workload },
      { header: 'wake', value: (w) => WAKE_TRIGGERS[w.trigger] },
      { header: 'due', value: (w) => clockTime(w.due_at) },
      { header: 'in', value: (w) => relativeTime(w.due_at, now) },
    ],
    view.wakes,
  );
  return `${instances}\nupcoming wakes:\n${wakes}`;
}

const WAKE_TRIGGERS: Record<string, string> = {
  schedule: 'schedule (its wake file)',
  every: 'every (pool.wake.every)',
};

export const tenantGroup: Group = {
  name: 'tenant',
  summary: 'look at one tenant',
  commands: [show],
};
