/**
 * The activity log: a page of it, or a live stream (server-sent events). The stream resumes after the
 * `Last-Event-ID` a reconnecting client sends (EventSource does it by itself), replaying what it missed.
 * A token limited to some tenants and workloads gets only their events.
 */
import { streamSSE } from 'hono/streaming';
import type { Boilerhouse } from '../../boilerhouse.ts';
import type { Database } from '../../db/database.ts';
import { type ActivityEvent, listEventsWithin } from '../../db/events.ts';
import { BadRequestError } from '../../errors.ts';
import { canSee } from '../reach.ts';
import { route } from '../route.ts';
import { ref } from '../view-schemas.ts';
import { eventView } from '../views.ts';

const REPLAY_PAGE = 500;
/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export function eventRoutes(boilerhouse: Boilerhouse, db: Database) {
  return [
    route({
      method: 'get',
      path: '/api/v1/events',
      tag: 'events',
      summary: 'The newest events, newest first',
      scope: 'read',
      limitedBy: 'filtered',
      query: {
        limit: {
          schema: { type: 'integer', minimum: 1, maximum: 1000 },
          description: 'How many (default 100)',
        },
      },
      responses: { 200: { description: 'The events', schema: ref('EventList') } },
      handle: (c, { query, principal }) =>
        c.json({
          events: listEventsWithin(db, (query.limit as number | undefined) ?? 100, principal.reach).map(
            eventView,
          ),
        }),
    }),
    route({
      method: 'get',
      path: '/api/v1/events/stream',
      tag: 'events',
      summary: 'Events as they happen (text/event-stream), resumable with Last-Event-ID',
      description:
        'Each event is `id: <event id>` and `data: <event JSON>`. With a Last-Event-ID header (or `after`), events after that id are replayed first; without, the stream starts with what happens next.',
      scope: 'read',
      limitedBy: 'filtered',
      query: {
        after: {
          schema: { type: 'integer', minimum: 0 },
          description: 'Replay events after this id (as Last-Event-ID does)',
        },
      },
      mediaType: 'text/event-stream',
      responses: { 200: 'The stream; each `data` is an Event (components.schemas.Event)' },
      handle: (c, { query, principal }) => {
        const header = c.req.header('Last-Event-ID');
        if (header !== undefined && !/^\d{1,15}$/.test(header)) {
          throw new BadRequestError(
            `header Last-Event-ID must be an event id, got ${JSON.stringify(header)}`,
          );
        }
        const resumeAfter = header !== undefined ? Number(header) : (query.after as number | undefined);
        return streamSSE(c, async (sse) => {
          // Listen before replaying, so nothing recorded meanwhile is missed; ids drop the overlap.
          const live: ActivityEvent[] = [];
          let wake: (() => void) | undefined;
          const unsubscribe = boilerhouse.activity.subscribe((event) => {
            live.push(event);
            wake?.();
          });
          let closed = false;
          sse.onAbort(() => {
            closed = true;
            unsubscribe();
            wake?.();
          });
          let last = resumeAfter ?? boilerhouse.lastEventId();
          const send = async (event: ActivityEvent) => {
            if (event.id <= last) return;
            last = event.id;
            if (!canSee(principal.reach, event)) return;
            await sse.writeSSE({ id: String(event.id), data: JSON.stringify(eventView(event)) });
          };
          try {
            if (resumeAfter !== undefined) {
              for (let page = boilerhouse.eventsAfter(last, REPLAY_PAGE); page.length > 0 && !closed; ) {
                for (const event of page) await send(event);
                page = boilerhouse.eventsAfter(last, REPLAY_PAGE);
              }
            }
            while (!closed) {
              while (live.length > 0 && !closed) await send(live.shift() as ActivityEvent);
              if (closed) break;
              const timedOut = await new Promise<boolean>((resolve) => {
                const timer = setTimeout(() => resolve(true), KEEP_ALIVE_MS);
                wake = () => {
                  clearTimeout(timer);
                  resolve(false);
                };
              });
              wake = undefined;
              if (timedOut && !closed) await sse.write(': keep-alive\n\n');
            }
          } finally {
            unsubscribe();
          }
        });
      },
    }),
  ];
}
