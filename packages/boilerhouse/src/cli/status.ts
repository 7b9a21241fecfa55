/** `status`: every pool, every instance, and the reservations kept for tenants, in one look. */
import type { InstanceView, PoolView } from './api-types.ts';
import { path } from './client.ts';
import type { Command } from './command.ts';
import { clockTime, relativeTime } from './format.ts';
import { versionCell } from './instances.ts';
import { print } from './output.ts';
import { poolTable } from './pool-table.ts';
import { formatTable } from './table.ts';

export const status: Command = {
  path: ['status'],
  args: '',
  summary: 'pools, instances and reservations at a glance',
  description:
    'Shows every pool (sizes, instances by phase and on an old version, filling problems), every instance\n' +
    '(with its version: current, or old until its tenant moves; see workload upgrade), and the instances\n' +
    "reserved for their last tenant. --json prints {pools, instances}: the two API responses' lists.",
  options: {
    workload: { type: 'string', value: 'W', description: 'only this workload' },
  },
  api: true,
  examples: ['status', 'status --workload echo', 'status --json'],
  async run(context) {
    const client = context.client();
    const workload = context.string('workload');
    const [pools, instances] = await Promise.all([
      workload === undefined
        ? client.request<{ pools: PoolView[] }>('GET', '/pools').then((body) => body.pools)
        : client.request<PoolView>('GET', path`/pools/${workload}`).then((pool) => [pool]),
      client
        .request<{ instances: InstanceView[] }>('GET', '/instances', { query: { workload } })
        .then((body) => body.instances),
    ]);
    print(context, { pools, instances }, () => statusText(pools, instances));
    return 0;
  },
};

export function statusText(pools: PoolView[], instances: InstanceView[], now = Date.now()): string {
  const reserved = instances.filter((instance) => instance.phase === 'reserved');
  return [
    'POOLS',
    poolTable(pools),
    'INSTANCES',
    formatTable(
      [
        { header: 'id', value: (i) => i.id },
        { header: 'workload', value: (i) => i.workload },
        { header: 'phase', value: (i) => i.phase },
        { header: 'tenant', value: (i) => i.tenant },
        { header: 'version', value: versionCell },
        { header: 'age', value: (i) => relativeTime(i.created_at, now).replace(/ ago$/, '') },
        { header: 'in phase', value: (i) => relativeTime(i.phase_changed_at, now).replace(/ ago$/, '') },
        { header: 'reason', value: (i) => i.reason },
      ],
      instances,
    ),
    'RESERVATIONS',
    formatTable(
      [
        { header: 'tenant', value: (i) => i.tenant },
        { header: 'workload', value: (i) => i.workload },
        { header: 'instance', value: (i) => i.id },
        { header: 'until', value: (i) => clockTime(i.reserved_until) },
        { header: 'expires', value: (i) => relativeTime(i.reserved_until, now) },
      ],
      reserved,
    ),
  ].join('\n');
}
