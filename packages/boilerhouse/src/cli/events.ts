/**
 * `events`: the daemon's activity log, newest at the bottom. `--follow` keeps printing events as they
 * happen from the event stream, and after a dropped connection reconnects with Last-Event-ID, so no event
 * is missed or printed twice.
 */

import { readSse } from '@boilerhouse/kit/sse';
import type { EventView } from './api-types.ts';
import { type ApiClient, ApiError, ConnectionError } from './client.ts';
import type { Command, Context } from './command.ts';
import { clockTime } from './format.ts';
import { printJson } from './output.ts';
import { formatTable } from './table.ts';

const DEFAULT_LIMIT = 20;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export const events: Command = {
  path: ['events'],
  args: '',
  summary: "the daemon's activity log; --follow to keep watching",
  description:
    'Prints the newest events (claims, releases, saves, failures, pool changes), oldest first. --follow keeps\n' +
    'printing new ones as they happen, reconnecting (without losing any) when the connection drops; stop it\n' +
    "with Ctrl-C. --json prints the API's response; with --follow, one event JSON per line.",
  options: {
    limit: { type: 'string', value: 'N', description: `how many recent events (default ${DEFAULT_LIMIT})` },
    follow: { type: 'boolean', short: 'f', description: 'keep printing new events' },
  },
  api: true,
  examples: [
    'events',
    'events --limit 100',
    'events --follow',
    'events --follow --json | jq -c \'select(.type == "instance.failed")\'',
  ],
  async run(context) {
    const limit = context.integer('limit') ?? DEFAULT_LIMIT;
    const client = context.client();
    const body = await client.request<{ events: EventView[] }>('GET', '/events', { query: { limit } });
    const oldestFirst = [...body.events].reverse();
    if (!context.flag('follow')) {
      if (context.json) printJson(context, body);
      else context.io.out(eventTable(oldestFirst));
      return 0;
    }
    for (const event of oldestFirst) context.io.out(followLine(context, event));
    await follow(context, client, body.events[0]?.id ?? 0);
    return 0;
  },
};

export function eventTable(list: EventView[]): string {
  return formatTable(
    [
      { header: 'time', value: (e) => clockTime(e.at) },
      { header: 'type', value: (e) => e.type },
      { header: 'workload', value: (e) => e.workload },
      { header: 'tenant', value: (e) => e.tenant },
      { header: 'instance', value: (e) => e.instance },
      { header: 'message', value: (e) => e.message },
    ],
    list,
    'no events',
  );
}

/** One event as one line: JSON under --json, else time, type and what it concerns, then the message. */
function followLine(context: Context, event: EventView): string {
  if (context.json) return `${JSON.stringify(event)}\n`;
  const subject = [event.workload, event.tenant, event.instance].filter((part) => part !== null).join(' ');
  return `${clockTime(event.at)}  ${event.type.padEnd(18)}  ${subject}  ${event.message}\n`.replace(
    / {2}\n$/,
    '\n',
  );
}

/** Reads the event stream until aborted, reconnecting after `lastId` whenever it drops. */
async function follow(context: Context, client: ApiClient, afterId: number): Promise<void> {
  let lastId = afterId;
  let retryMs = RETRY_MIN_MS;
  let dropped = false;
  for (;;) {
    try {
      const response = await client.stream('/events/stream', {
        headers: { accept: 'text/event-stream', 'last-event-id': String(lastId) },
      });
      if (dropped) context.io.err(`${context.prog}: events: reconnected\n`);
      dropped = false;
      retryMs = RETRY_MIN_MS;
      if (response.body === null) throw new Error('the event stream has no body');
      for await (const message of readSse(response.body)) {
        const event = parseEvent(message.data);
        if (event === undefined || event.id <= lastId) continue;
        lastId = event.id;
        context.io.out(followLine(context, event));
      }
      throw new Error('the server closed the stream');
    } catch (error) {
      if (context.io.signal?.aborted) throw error;
      // Credentials or routes will not fix themselves: only lost connections are retried.
      if (error instanceof ApiError && error.status < 500) throw error;
      if (!dropped) {
        context.io.err(`${context.prog}: events: connection lost (${dropReason(error)}); reconnecting\n`);
        dropped = true;
      }
      await sleep(retryMs, context.io.signal);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    }
  }
}

function parseEvent(data: string): EventView | undefined {
  try {
    const event = JSON.parse(data) as EventView;
    return typeof event?.id === 'number' ? event : undefined;
  } catch {
    return undefined;
  }
}

function dropReason(error: unknown): string {
  if (error instanceof ConnectionError) return error.reason;
  if (error instanceof ApiError) return `${error.status} ${error.code}: ${error.message}`;
  const message = (error as Error).message;
  // undici's word for a response body cut off mid-stream.
  return message === 'terminated' ? 'the connection was cut' : message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
