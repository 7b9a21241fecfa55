/**
 * `workload upgrade ID [--now]`: which tenants are still on an old version of a workload and when each
 * moves to the current one; with --now the claimed ones move now, each saved first, with a line on stderr
 * as each move ends (read from the event stream) and the outcome of every tenant on stdout.
 */

import { readSse } from '@boilerhouse/kit/sse';
import type { EventView, UpgradeView } from './api-types.ts';
import { type ApiClient, path } from './client.ts';
import { type Command, type Context, UsageError } from './command.ts';
import { clockTime } from './format.ts';
import { print } from './output.ts';
import { formatTable } from './table.ts';

/** Outcomes whose move ended now, each told by one event. */
const ENDED = new Set(['moved', 'replaced', 'failed', 'resuming']);
const MOVE_EVENTS = new Set(['tenant.upgraded', 'tenant.upgrade_failed']);
/** How long the last progress lines may trail the answer (they come over another connection). */
const TRAIL_MS = 2_000;

export const upgrade: Command = {
  path: ['workload', 'upgrade'],
  args: 'ID',
  summary: "move a workload's tenants to its current version: at their next release, or --now",
  description:
    "Lists the tenants whose instance was made from an older version of workload ID's file and when each\n" +
    'moves to the current version: a claimed tenant at its next release (its state is saved, then its\n' +
    'instance destroyed instead of reserved, so that its next claim gets the current version with that save),\n' +
    'a reservation at once (saved, then replaced). Without --now nothing is moved.\n' +
    '--now moves each claimed tenant now: its instance is paused and saved, then the tenant is claimed again\n' +
    'on the current version, --parallel at a time (default 2). The first move that fails stops the rest; a\n' +
    'tenant whose move failed stays on its instance with its data. Exits 1 when any move failed.',
  options: {
    now: { type: 'boolean', description: 'move claimed tenants now instead of at their next release' },
    parallel: { type: 'string', value: 'N', description: 'with --now: tenants moved at once (default 2)' },
  },
  api: true,
  examples: [
    'workload upgrade echo',
    'workload upgrade echo --now',
    'workload upgrade nanoclaw --now --parallel 4',
    "workload upgrade echo --json | jq -r '.tenants[].tenant'",
  ],
  async run(context) {
    const [workload] = context.positionals as [string];
    const now = context.flag('now');
    const parallel = context.integer('parallel');
    if (parallel !== undefined && !now) throw new UsageError('--parallel goes with --now');
    const client = context.client();
    const progress = now && !context.json ? await followMoves(context, client, workload) : undefined;
    let body: UpgradeView;
    try {
      body = await client.request<UpgradeView>('POST', path`/workloads/${workload}/upgrade`, {
        json: { now, ...(parallel === undefined ? {} : { parallel }) },
      });
      await progress?.heard(body.tenants.filter((move) => ENDED.has(move.outcome)).length);
    } finally {
      progress?.stop();
    }
    print(context, body, upgradeText);
    const failed = body.tenants.filter((move) => move.outcome === 'failed' || move.outcome === 'resuming');
    if (failed.length > 0) {
      throw new Error(
        `${failed.length} move(s) failed (${failed.map((move) => move.tenant).join(', ')}); each stays as its line above says`,
      );
    }
    return 0;
  },
};

export function upgradeText(view: UpgradeView): string {
  const lines = [`workload ${view.workload}: version ${view.version}`];
  if (view.idle_old_instances > 0) {
    lines.push(`${view.idle_old_instances} idle instance(s) of an old version: replaced at once`);
  }
  const table =
    view.tenants.length === 0
      ? 'no tenant is on an old version\n'
      : formatTable(
          [
            { header: 'tenant', value: (move) => move.tenant },
            { header: 'instance', value: (move) => move.instance },
            { header: 'version', value: (move) => move.version },
            { header: 'phase', value: (move) => move.phase },
            { header: 'outcome', value: (move) => move.outcome.replace('_', ' ') },
            { header: 'to', value: (move) => move.to },
            { header: 'message', value: (move) => move.message },
          ],
          view.tenants,
        );
  const claimed = view.tenants.some((move) => move.outcome === 'next_release' && move.phase === 'claimed');
  const hint =
    !view.now && claimed ? `nothing was moved; --now moves the claimed ones now, each saved first\n` : '';
  return `${lines.join('\n')}\n${table}${hint}`;
}

/**
 * Prints, on stderr, each move of the workload's tenants as its event arrives. Listening starts before
 * the upgrade is asked for, from the newest event, so no move is missed.
 */
async function followMoves(context: Context, client: ApiClient, workload: string) {
  const newest = await client.request<{ events: EventView[] }>('GET', '/events', { query: { limit: 1 } });
  const abort = new AbortController();
  let heard = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  void (async () => {
    const response = await client.stream('/events/stream', {
      headers: { accept: 'text/event-stream', 'last-event-id': String(newest.events[0]?.id ?? 0) },
      signal: abort.signal,
    });
    if (response.body === null) return;
    for await (const message of readSse(response.body)) {
      const event = JSON.parse(message.data) as EventView;
      if (!MOVE_EVENTS.has(event.type) || event.workload !== workload) continue;
      context.io.err(`${clockTime(event.at)}  ${event.message}\n`);
      heard++;
      if (waiting !== undefined && heard >= waiting.count) waiting.resolve();
    }
  })().catch(() => undefined); // progress only: the answer says it all
  return {
    /** Resolves once `count` moves were printed, or a little after the answer at most. */
    heard(count: number): Promise<void> {
      if (heard >= count) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, TRAIL_MS);
        waiting = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    stop(): void {
      abort.abort();
    },
  };
}
