/**
 * `status`: what keeps workload files from being served as written, every pool, every instance, and the
 * reservations kept for tenants, in one look.
 */
import type { InstanceView, PoolView, WorkloadList, WorkloadProblemView } from './api-types.ts';
import { path } from './client.ts';
import type { Command } from './command.ts';
import { clockTime, relativeTime } from './format.ts';
import { versionCell } from './instances.ts';
import { print } from './output.ts';
import { poolTable } from './pool-table.ts';
import { problemsText } from './problems.ts';
import { formatTable } from './table.ts';

export const status: Command = {
  path: ['status'],
  args: '',
  summary: 'pools, instances and reservations at a glance',
  description:
    'Shows the problems of workload files first, when there are any (a file that does not load, a sink\n' +
    'that cannot be used: as `workload list` shows them), then every pool (sizes, instances by phase and\n' +
    'on an old version, filling problems), every instance (with its version: current, or old until its\n' +
    'tenant moves; see workload upgrade), and the instances reserved for their last tenant. --json prints\n' +
    "{problems, pools, instances}: the three API responses' lists.",
  options: {
    workload: { type: 'string', value: 'W', description: 'only this workload' },
  },
  api: true,
  examples: ['status', 'status --workload echo', 'status --json'],
  async run(context) {
    const client = context.client();
    const workload = context.string('workload');
    const [problems, pools, instances] = await Promise.all([
      client
        .request<WorkloadList>('GET', '/workloads')
        .then((body) =>
          body.problems.filter((problem) => workload === undefined || problem.workload === workload),
        ),
      workload === undefined
        ? client.request<{ pools: PoolView[] }>('GET', '/pools').then((body) => body.pools)
        : client.request<PoolView>('GET', path`/pools/${workload}`).then((pool) => [pool]),
      client
        .request<{ instances: InstanceView[] }>('GET', '/instances', { query: { workload } })
        .then((body) => body.instances),
    ]);
    print(context, { problems, pools, instances }, () => statusText(pools, instances, problems));
    return 0;
  },
};

export function statusText(
  pools: PoolView[],
  instances: InstanceView[],
  problems: WorkloadProblemView[],
  now = Date.now(),
): string {
  const reserved = instances.filter((instance) => instance.phase === 'reserved');
  return [
    ...(problems.length === 0 ? [] : [problemsText(problems, now)]),
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
