/** `snapshots list` and `snapshots restore`: a tenant's saved states of a workload. */
import type { DamagedSaveView, Restored, Snapshots } from './api-types.ts';
import { path } from './client.ts';
import { type Command, type Group, type OptionSpec, UsageError } from './command.ts';
import { bytes, clockTime, relativeTime } from './format.ts';
import { print } from './output.ts';
import { withProgress } from './progress.ts';
import { formatTable } from './table.ts';

const WORKLOAD: OptionSpec = { type: 'string', value: 'W', required: true, description: 'the workload' };

const list: Command = {
  path: ['snapshots', 'list'],
  args: 'TENANT',
  summary: "list a tenant's saves of a workload, newest first",
  description:
    "Lists TENANT's saves of workload W, newest first; * marks the current one (the head). Saves that\n" +
    'cannot be read (a torn or missing manifest, a damaged HEAD) follow, each with what is wrong.',
  options: { workload: WORKLOAD },
  api: true,
  examples: ['snapshots list alice --workload echo'],
  async run(context) {
    const [tenant] = context.positionals as [string];
    const workload = context.required('workload');
    const body = await context
      .client()
      .request<Snapshots>('GET', path`/tenants/${tenant}/snapshots`, { query: { workload } });
    print(context, body, (view) => formatSnapshots(view));
    return 0;
  },
};

/** The saves as a table, then one line per damaged save (or HEAD) saying what is wrong with it. */
export function formatSnapshots(view: Snapshots, now = Date.now()): string {
  const table = formatTable(
    [
      { header: 'seq', value: (s) => `${s.seq === view.head ? '*' : ' '}${s.seq}`, align: 'right' },
      { header: 'created', value: (s) => clockTime(s.created_at) },
      { header: 'age', value: (s) => relativeTime(s.created_at, now) },
      { header: 'instance', value: (s) => s.instance },
      { header: 'files', value: (s) => s.files },
      { header: 'size', value: (s) => bytes(s.bytes), align: 'right' },
    ],
    view.saves,
    `tenant ${view.tenant} has no ${view.damaged.length > 0 ? 'readable ' : ''}saves of ${view.workload}`,
  );
  return (
    table +
    view.damaged.map((damaged) => `${damagedName(damaged)}: damaged: ${oneLine(damaged.reason)}\n`).join('')
  );
}

function damagedName(damaged: DamagedSaveView): string {
  return damaged.seq === undefined ? 'HEAD' : `save ${damaged.seq}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

const restore: Command = {
  path: ['snapshots', 'restore'],
  args: 'TENANT SEQ',
  summary: "make an older save the tenant's current state",
  description:
    "Makes save SEQ of TENANT's state of workload W the current one; the tenant's next claim starts from it.\n" +
    'Refused (409) while the tenant holds a claimed instance: release it first.',
  options: { workload: WORKLOAD },
  api: true,
  examples: ['snapshots restore alice 3 --workload echo'],
  async run(context) {
    const [tenant, seq] = context.positionals as [string, string];
    if (!/^\d+$/.test(seq))
      throw new UsageError(`SEQ must be a save number (see "snapshots list"), got "${seq}"`);
    const workload = context.required('workload');
    const request = context
      .client()
      .request<Restored>('POST', path`/tenants/${tenant}/snapshots/${seq}/restore`, { json: { workload } });
    const body = await withProgress(context.io, `restoring save ${seq} of ${tenant}`, request);
    print(
      context,
      body,
      (done) =>
        `restored save ${done.restored} of ${done.tenant}'s ${done.workload} state (head is now ${done.head})\n`,
    );
    return 0;
  },
};

export const snapshotsGroup: Group = {
  name: 'snapshots',
  summary: "list and restore a tenant's saved state",
  commands: [list, restore],
};
