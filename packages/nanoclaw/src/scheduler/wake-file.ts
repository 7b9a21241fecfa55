/**
 * The wake file (NANOCLAW_WAKE_FILE, default `data/wake-at` under NANOCLAW_HOME): when the next task is
 * due, as one RFC 3339 line in UTC (`2026-01-01T07:00:00.000Z`), for whoever hosts NanoClaw to start it
 * then (Boilerhouse's `pool.wake.at_file` reads it at every save and claims the tenant at that time). No
 * file: no task will run. A time already past means at once: a task is waiting to run.
 *
 * Written whole or not at all: a new temporary file beside it (never an existing entry), then a rename,
 * inside a directory opened without following a link; a link planted at its name is replaced, not
 * followed. The disk is touched only when the time changes: every write to the state volume is activity
 * that holds off the idle release, so rewriting it on each of the scheduler's ticks would keep the tenant
 * claimed for good.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type BeneathDir, withDir } from '../ipc/beneath.ts';
import type { Logger } from '../log.ts';

/** What the scheduler tells the wake file. */
export interface WakeTime {
  /** The next due time (ms), or undefined when no task will run. */
  set(at: number | undefined): void;
}

export class WakeFile implements WakeTime {
  readonly #dir: string;
  readonly #name: string;
  readonly #log: Logger;
  /** What the file holds since our last change: its text, null when removed, undefined before the first. */
  #content: string | null | undefined;

  constructor(path: string, log: Logger) {
    this.#dir = dirname(path);
    this.#name = basename(path);
    this.#log = log;
  }

  /** A failure is logged and tried again at the next call. */
  set(at: number | undefined): void {
    const content = at === undefined ? null : `${new Date(at).toISOString()}\n`;
    if (content === this.#content) return;
    try {
      if (content === null) withDir(this.#dir, (dir) => dir.remove(this.#name));
      else this.#write(content);
      this.#content = content;
    } catch (error) {
      this.#log.error(
        { path: `${this.#dir}/${this.#name}`, error },
        'could not update the wake file; its host may not wake this NanoClaw for its next task',
      );
    }
  }

  #write(content: string): void {
    const write = (dir: BeneathDir) => {
      dir.write(this.#name, content);
      return true;
    };
    if (withDir(this.#dir, write)) return;
    mkdirSync(this.#dir, { recursive: true });
    if (!withDir(this.#dir, write)) throw new Error(`${this.#dir} went away while it was made`);
  }
}
