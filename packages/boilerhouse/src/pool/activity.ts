/**
 * Records activity: one row in the events table, one log line, and one notification for live listeners.
 * `signals` carries what is only worth counting (see signals.ts).
 */
import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.ts';
import { type ActivityEvent, insertEvent, type NewEvent, pruneEvents } from '../db/events.ts';
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
}
