/**
 * `instances list|destroy|logs`: the instances themselves, for an operator who needs to look at one or
 * take one away. A destroy saves a tenant's instance first (the daemon refuses when that fails), unless
 * --discard says to drop its unsaved changes.
 */
import type { InstanceView } from './api-types.ts';
import { path } from './client.ts';
import { type Command, type Group, UsageError } from './command.ts';
import { relativeTime } from './format.ts';
import { logs } from './logs.ts';
import { print } from './output.ts';
import { formatTable } from './table.ts';

const list: Command = {
  path: ['instances', 'list'],
  args: '',
  summary: 'every instance: phase, tenant, workload version (current or old), age and reason',
  options: {
    workload: { type: 'string', value: 'W', description: 'only this workload' },
    phase: { type: 'string', value: 'P', description: 'only this phase (ready, claimed, failed, ...)' },
  },
  api: true,
  examples: ['instances list', 'instances list --workload nanoclaw --phase failed'],
  async run(context) {
    const query = { workload: context.string('workload'), phase: context.string('phase') };
    const body = await context
      .client()
      .request<{ instances: InstanceView[] }>('GET', '/instances', { query });
    print(context, body, (view) => instancesTable(view.instances));
    return 0;
  },
};

/** `3f2a9c01de12 current`, or `... old`: made from an earlier version of its workload's file. */
export function versionCell(instance: Pick<InstanceView, 'version' | 'version_status'>): string {
  return `${instance.version.slice(0, 12)} ${instance.version_status}`;
}

export function instancesTable(instances: InstanceView[], now = Date.now()): string {
  return formatTable(
    [
      { header: 'id', value: (i) => i.id },
      { header: 'workload', value: (i) => i.workload },
      { header: 'version', value: versionCell },
      { header: 'phase', value: (i) => i.phase },
      { header: 'tenant', value: (i) => i.tenant },
      { header: 'age', value: (i) => relativeTime(i.created_at, now).replace(/ ago$/, '') },
      { header: 'reason', value: (i) => i.reason },
    ],
    instances,
    'no instances',
  );
}

const destroy: Command = {
  path: ['instances', 'destroy'],
  args: '[INSTANCE]',
  summary: "destroy an instance (or --all), saving its tenant's state first",
  description:
    "Destroys INSTANCE whatever its phase. A tenant's instance (claimed, reserved, failed, or with a failed\n" +
    'release) is saved first; when that save fails nothing is destroyed and the error says why. --discard\n' +
    "skips the save: the tenant's changes since its last save are lost, and the event log says so. A claimed\n" +
    "tenant's next claim gets a new instance with its saved state. --all destroys every instance (of\n" +
    '--workload W), one after another, each saved first: how a demo or a test host is taken down.',
  options: {
    all: { type: 'boolean', description: 'every instance (of --workload W)' },
    workload: { type: 'string', value: 'W', description: 'with --all: only this workload' },
    discard: { type: 'boolean', description: 'drop unsaved changes instead of saving them first' },
  },
  api: true,
  json: false,
  examples: [
    'instances destroy echo-3f2a9c01de',
    'instances destroy echo-3f2a9c01de --discard',
    'instances destroy --all --workload nanoclaw',
  ],
  async run(context) {
    const [instance] = context.positionals as [string | undefined];
    const all = context.flag('all');
    if (all === (instance !== undefined)) throw new UsageError('name an INSTANCE, or give --all');
    const client = context.client();
    const discard = context.flag('discard') ? 'true' : undefined;
    const ids =
      instance !== undefined
        ? [instance]
        : (
            await client.request<{ instances: InstanceView[] }>('GET', '/instances', {
              query: { workload: context.string('workload') },
            })
          ).instances.map((each) => each.id);
    for (const id of ids) {
      await client.request<void>('DELETE', path`/instances/${id}`, { query: { discard } });
      context.io.out(`destroyed ${id}${discard ? ' (unsaved changes discarded)' : ''}\n`);
    }
    if (all && ids.length === 0) context.io.out('no instances\n');
    return 0;
  },
};

export const instancesGroup: Group = {
  name: 'instances',
  summary: 'list, destroy and read the logs of instances',
  commands: [list, destroy, { ...logs, path: ['instances', 'logs'] }],
};
