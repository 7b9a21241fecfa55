/**
 * The activity log as the browser holds it: the newest events from GET /api/v1/events, then every event
 * from the stream as it happens. A dropped stream reconnects with Last-Event-ID, so nothing is missed or
 * shown twice. Pages read it through useEvents(); each new batch also goes to `onEvents` (cache refresh).
 */

import { SseParser } from '@boilerhouse/kit/sse';
import { ApiError, api, data, openStream } from '../api/client.ts';
import type { ActivityEvent } from '../api/types.ts';

export type Connection = 'connecting' | 'live' | 'reconnecting';

/** How many events the browser keeps (the charts look back 15 minutes). */
const KEEP = 2000;
const FIRST_PAGE = 1000;
const RETRY_MS = [500, 1000, 2000, 5000, 10_000];

export class EventLog {
  #events: readonly ActivityEvent[] | null = null;
  #connection: Connection = 'connecting';
  #error: string | undefined;
  /** The newest event held: the stream resumes after it, and nothing at or before it is added again. */
  #lastId = 0;
  #loaded = false;
  readonly #listeners = new Set<() => void>();
  readonly #onEvents: (events: ActivityEvent[], resumed: boolean) => void;

  constructor(onEvents: (events: ActivityEvent[], resumed: boolean) => void) {
    this.#onEvents = onEvents;
  }

  /** Oldest first; null until the first page has loaded. A new array whenever something arrives. */
  events = (): readonly ActivityEvent[] | null => this.#events;
  connection = (): Connection => this.#connection;
  /** Why the stream is down, while it is. */
  error = (): string | undefined => this.#error;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Loads the newest events, then follows the stream until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        if (!this.#loaded) await this.#loadNewest(signal);
        await this.#follow(signal, attempt > 0);
        attempt = 0;
      } catch (error) {
        if (signal.aborted) return;
        // A refused token ends the session (the client does that); nothing to retry.
        if (error instanceof ApiError && error.status === 401) return;
        this.#set('reconnecting', error instanceof Error ? error.message : String(error));
      }
      const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async #loadNewest(signal: AbortSignal): Promise<void> {
    const page = await data(api.GET('/api/v1/events', { params: { query: { limit: FIRST_PAGE } }, signal }));
    if (signal.aborted) return;
    this.#append([...page.events].reverse(), false);
    this.#loaded = true;
  }

  async #follow(signal: AbortSignal, resumed: boolean): Promise<void> {
    const reader = await openStream(
      '/api/v1/events/stream',
      { 'Last-Event-ID': String(this.#lastId) },
      signal,
    );
    this.#set('live', undefined);
    // Whatever happened while the stream was down is replayed; pages refetch what they show too.
    if (resumed) this.#onEvents([], true);
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the daemon closed the event stream');
        if (signal.aborted) return;
        this.#append(
          parser.push(value).map((message) => JSON.parse(message.data) as ActivityEvent),
          true,
        );
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  /** Adds events in id order, skipping any already held (a replay overlapping what was read). */
  #append(incoming: ActivityEvent[], live: boolean): void {
    const fresh: ActivityEvent[] = [];
    for (const event of incoming) {
      if (event.id <= this.#lastId) continue;
      fresh.push(event);
      this.#lastId = event.id;
    }
    if (fresh.length === 0 && this.#events !== null) return;
    const all = [...(this.#events ?? []), ...fresh];
    this.#events = all.length > KEEP ? all.slice(all.length - KEEP) : all;
    if (live) this.#onEvents(fresh, false);
    this.#changed();
  }

  #set(connection: Connection, error: string | undefined): void {
    this.#connection = connection;
    this.#error = error;
    this.#changed();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
