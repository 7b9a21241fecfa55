/**
 * Records activity: one row in the events table, one log line, and one notification for live listeners;
 * and reads the recorded events back. `signals` carries what is only worth counting (see signals.ts).
 */
import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.ts';
import {
  type ActivityEvent,
  insertEvent,
  lastEventId,
  listEvents,
  listEventsAfter,
  type NewEvent,
  pruneEvents,
} from '../db/events.ts';
import { BadRequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Signals } from './signals.ts';

const KEEP_EVENTS = 50_000;
const PRUNE_EVERY = 1_000;

export class Activity {
  readonly signals = new Signals();
  readonly #db: Database;
  readonly #log: Logger;
  readonly #emitter = new EventEmitter();
  #sincePrune = 0;

  constructor(db: Database, log: Logger) {
    this.#db = db;
    this.#log = log;
    this.#emitter.setMaxListeners(0);
  }

  record(event: Omit<NewEvent, 'at'>, level: 'info' | 'warn' = 'info'): ActivityEvent {
    const stored = insertEvent(this.#db, { ...event, at: Date.now() });
    if (++this.#sincePrune >= PRUNE_EVERY) {
      this.#sincePrune = 0;
      pruneEvents(this.#db, KEEP_EVENTS);
    }
    const { message, data, id: _id, at: _at, ...where } = stored;
    this.#log[level]({ event: stored.type, ...where, ...data }, message);
    this.#emitter.emit('event', stored);
    return stored;
  }

  /** Calls `listener` for every event recorded from now on; returns the function that stops it. */
  subscribe(listener: (event: ActivityEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  /** The newest event's id (0 when there is none). */
  lastId(): number {
    return lastEventId(this.#db);
  }

  /** Events after `id`, oldest first, at most `limit`: for resuming a stream. */
  after(id: number, limit: number): ActivityEvent[] {
    return listEventsAfter(this.#db, id, limit);
  }

  /** The newest `limit` events (1 to 1000, from the API), newest first. */
  latest(limit: number): ActivityEvent[] {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new BadRequestError(`limit must be an integer from 1 to 1000, got ${limit}`);
    }
    return listEvents(this.#db, limit);
  }
}
