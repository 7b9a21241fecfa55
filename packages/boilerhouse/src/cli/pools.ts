/** `pools scale` and `pools drain`: an operator's pool sizes, over the workload file's. */
import type { PoolView } from './api-types.ts';
import { path } from './client.ts';
import { type Command, type Context, type Group, UsageError } from './command.ts';
import { print } from './output.ts';
import { poolLine } from './pool-table.ts';
import { withProgress } from './progress.ts';

const scale: Command = {
  path: ['pools', 'scale'],
  args: 'W',
  summary: "set a pool's --min-idle and --max-size over the workload file's",
  description:
    "Sets how many ready instances workload W's pool keeps (--min-idle) and its most instances in all\n" +
    '(--max-size), over the values in the workload file; the pool fills or shrinks at once. "file" for\n' +
    "either goes back to the file's value.",
  options: {
    'min-idle': { type: 'string', value: 'N', description: 'ready instances to keep warm, or "file"' },
    'max-size': { type: 'string', value: 'N', description: 'most instances in all, or "file"' },
  },
  api: true,
  examples: [
    'pools scale echo --min-idle 5',
    'pools scale echo --min-idle 2 --max-size 20',
    'pools scale echo --min-idle file',
  ],
  async run(context) {
    const [workload] = context.positionals as [string];
    const body: Record<string, number | null> = {};
    const minIdle = size(context, 'min-idle');
    const maxSize = size(context, 'max-size');
    if (minIdle !== undefined) body.min_idle = minIdle;
    if (maxSize !== undefined) body.max_size = maxSize;
    if (Object.keys(body).length === 0) throw new UsageError('give --min-idle N, --max-size N or both');
    const pool = await context
      .client()
      .request<PoolView>('POST', path`/pools/${workload}/scale`, { json: body });
    print(context, pool, poolLine);
    return 0;
  },
};

const drain: Command = {
  path: ['pools', 'drain'],
  args: 'W',
  summary: 'stop keeping instances warm and destroy the ready ones',
  description:
    "Sets workload W's min_idle to 0 and destroys its ready instances. Tenants' instances are left to their\n" +
    'tenancy. Scale min_idle up again (or back to "file") to refill.',
  options: {},
  api: true,
  examples: ['pools drain echo', 'pools scale echo --min-idle file'],
  async run(context) {
    const [workload] = context.positionals as [string];
    const request = context.client().request<PoolView>('POST', path`/pools/${workload}/drain`);
    const pool = await withProgress(context.io, `draining ${workload}`, request);
    print(context, pool, poolLine);
    return 0;
  },
};

/** A size option: a whole number, `file` (null: back to the file's value), or absent. */
function size(context: Context, name: string): number | null | undefined {
  if (context.string(name) === 'file') return null;
  return context.integer(name);
}

export const poolsGroup: Group = {
  name: 'pools',
  summary: "change a pool's sizes or drain it",
  commands: [scale, drain],
};
