/**
 * Picks up request files from `data/ipc/{group}/messages/` and `tasks/` as they appear (fs.watch, with a
 * slow rescan as a fallback for events a filesystem does not deliver), in name (time) order per group and
 * kind; the group a file speaks for is the directory it is in. Each request ends in one of three ways,
 * answered in `responses/` (responses.ts): carried out (deleted); refused (set aside with its reason at
 * once, set-aside.ts); or, when carrying it out failed, kept and tried again with back-off (retry-policy.ts),
 * the files after it in its folder waiting their turn so that order holds, and set aside after the last
 * attempt. Nothing is deleted unhandled. The folders are the agent's: they are read through beneath.ts,
 * never following a link, only regular files up to MAX_REQUEST_BYTES.
 */
import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import type { HostAnswer } from '@boilerhouse/nanoclaw-agent/ipc-answers';
import { IPC_KINDS, type IpcKind } from '@boilerhouse/nanoclaw-agent/ipc-requests';
import { FOLDER_PATTERN, type Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import { BeneathDir, NotARegularFileError, TooLargeError } from './beneath.ts';
import { writeAnswer } from './responses.ts';
import { DEFAULT_RETRY, type RetryPolicy, retryDelay } from './retry-policy.ts';
import { setAside } from './set-aside.ts';

/** What became of a request; a throw means it could not be carried out now and is tried again. */
export type HandleOutcome = { status: 'accepted'; taskId?: string } | { status: 'refused'; reason: string };

export type FileHandler = (
  folder: string,
  kind: IpcKind,
  file: string,
  text: string,
) => Promise<HandleOutcome>;

const RESCAN_MS = 10_000;
/** Field texts are capped at MAX_FIELD_CHARS (ipc-requests.ts); JSON escapes may make their bytes a few times that. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export interface WatcherOptions {
  retry?: RetryPolicy;
}

interface PendingRetry {
  failures: number;
  at: number;
}

export class IpcWatcher {
  readonly #layout: Layout;
  readonly #handle: FileHandler;
  readonly #log: Logger;
  readonly #watchers = new Map<string, FSWatcher>();
  /** Per group: the scan in progress, and whether another was asked for meanwhile. */
  readonly #scans = new Map<string, { running: Promise<void>; again: boolean }>();
  readonly #retry: RetryPolicy;
  /** By `{folder}/{kind}/{file}`: requests whose last attempt failed, and when to try again. */
  readonly #pending = new Map<string, PendingRetry>();
  /** Per group: the timer of its next retry. */
  readonly #retryTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Entries refused already that cannot be removed (directories named *.json): not refused again. */
  readonly #stuck = new Set<string>();
  #rescan: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(layout: Layout, handle: FileHandler, log: Logger, options: WatcherOptions = {}) {
    this.#layout = layout;
    this.#handle = handle;
    this.#log = log;
    this.#retry = options.retry ?? DEFAULT_RETRY;
  }

  start(): void {
    for (const folder of this.#folders()) this.watchGroup(folder);
    this.#rescan = setInterval(() => {
      for (const folder of this.#folders()) this.scan(folder);
    }, RESCAN_MS);
    this.#rescan.unref();
  }

  /** Watches one group's request dirs (they must exist) and handles what is already there. */
  watchGroup(folder: string): void {
    if (this.#stopped) return;
    for (const kind of IPC_KINDS) {
      const dir = join(this.#layout.ipcDir(folder), kind);
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, () => this.scan(folder));
        watcher.on('error', (error) => {
          this.#log.warn({ dir, error }, 'IPC watch failed; the rescan still picks files up');
          watcher.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, watcher);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.#log.warn({ dir, error }, 'cannot watch IPC dir; the rescan still picks files up');
      }
    }
    this.scan(folder);
  }

  /** Handles the group's pending files; a call during a scan runs one more scan after it. */
  scan(folder: string): Promise<void> {
    const current = this.#scans.get(folder);
    if (current !== undefined) {
      current.again = true;
      return current.running;
    }
    const state = { running: Promise.resolve(), again: false };
    state.running = (async () => {
      do {
        state.again = false;
        await this.#scanOnce(folder);
      } while (state.again && !this.#stopped);
      this.#scans.delete(folder);
    })();
    this.#scans.set(folder, state);
    return state.running;
  }

  /** Waits for scans in progress. */
  async idle(): Promise<void> {
    while (this.#scans.size > 0) await Promise.all([...this.#scans.values()].map((scan) => scan.running));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#rescan !== undefined) clearInterval(this.#rescan);
    for (const { timer } of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    await this.idle();
  }

  #folders(): string[] {
    try {
      return readdirSync(this.#layout.ipcRoot).filter((name) => FOLDER_PATTERN.test(name));
    } catch {
      return [];
    }
  }

  async #scanOnce(folder: string): Promise<void> {
    const group = BeneathDir.open(this.#layout.ipcDir(folder));
    if (group === undefined) return;
    try {
      for (const kind of IPC_KINDS) {
        if (this.#stopped) return;
        let dir: BeneathDir | undefined;
        try {
          dir = group.sub(kind);
        } catch (error) {
          this.#log.warn({ group: folder, kind, error }, 'IPC request dir is not a directory; skipped');
          continue;
        }
        if (dir === undefined) continue;
        try {
          await this.#scanDir(folder, kind, dir);
        } catch (error) {
          // The file stays; the next scan tries it again.
          this.#log.error({ group: folder, kind, error }, 'IPC requests could not be handled');
        } finally {
          dir.close();
        }
      }
    } finally {
      group.close();
    }
  }

  async #scanDir(folder: string, kind: IpcKind, dir: BeneathDir): Promise<void> {
    const names = dir
      .list()
      .filter((name) => name.endsWith('.json'))
      .sort();
    this.#forgetGone(folder, kind, names);
    for (const name of names) {
      if (this.#stopped) return;
      const key = `${folder}/${kind}/${name}`;
      if (this.#stuck.has(key)) continue;
      const pending = this.#pending.get(key);
      if (pending !== undefined && pending.at > Date.now()) {
        this.#retryAt(folder, pending.at);
        return;
      }
      if (!(await this.#handleFile(folder, kind, dir, name, pending?.failures ?? 0))) return;
    }
  }

  /** Handles one file; false when it failed and waits for a retry (the files after it wait too). */
  async #handleFile(
    folder: string,
    kind: IpcKind,
    dir: BeneathDir,
    name: string,
    failures: number,
  ): Promise<boolean> {
    const key = `${folder}/${kind}/${name}`;
    let content: Buffer;
    try {
      content = dir.read(name, MAX_REQUEST_BYTES);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (error instanceof NotARegularFileError || error instanceof TooLargeError || code === 'ELOOP') {
        const reason = code === 'ELOOP' ? `${name} is a link, not a file` : (error as Error).message;
        this.#log.warn({ group: folder, file: `${kind}/${name}`, reason }, 'IPC request refused');
        this.#finish(folder, kind, dir, name, undefined, { status: 'refused', reason });
        if (dir.list().includes(name)) this.#stuck.add(key);
        return true;
      }
      throw error;
    }
    let outcome: HandleOutcome;
    try {
      outcome = await this.#handle(folder, kind, name, content.toString('utf8'));
    } catch (error) {
      return this.#failed(folder, kind, dir, name, content, failures + 1, error);
    }
    this.#finish(folder, kind, dir, name, content, outcome);
    return true;
  }

  #failed(
    folder: string,
    kind: IpcKind,
    dir: BeneathDir,
    name: string,
    content: Buffer,
    failures: number,
    error: unknown,
  ): boolean {
    const key = `${folder}/${kind}/${name}`;
    const reason = error instanceof Error ? error.message : String(error);
    const log = {
      group: folder,
      file: `${kind}/${name}`,
      attempt: failures,
      attempts: this.#retry.attempts,
      error,
    };
    if (failures >= this.#retry.attempts) {
      this.#log.error(log, 'IPC request failed on every attempt; set aside');
      this.#finish(folder, kind, dir, name, content, {
        status: 'failed',
        reason: `${reason} (${failures} attempts)`,
      });
      return true;
    }
    const delay = retryDelay(this.#retry, failures);
    this.#pending.set(key, { failures, at: Date.now() + delay });
    this.#log.warn({ ...log, retryInMs: delay }, 'IPC request could not be carried out; kept to try again');
    this.#answer(folder, name, { status: 'retrying', reason });
    this.#retryAt(folder, Date.now() + delay);
    return false;
  }

  /** A request's last step: set aside unless carried out, answered, then removed. */
  #finish(
    folder: string,
    kind: IpcKind,
    dir: BeneathDir,
    name: string,
    content: Buffer | undefined,
    outcome: HandleOutcome | { status: 'failed'; reason: string },
  ): void {
    if (outcome.status !== 'accepted')
      setAside(this.#layout, folder, kind, name, content, outcome.reason, this.#log);
    this.#answer(folder, name, outcome);
    dir.remove(name);
    this.#pending.delete(`${folder}/${kind}/${name}`);
  }

  #answer(folder: string, name: string, answer: HostAnswer): void {
    try {
      writeAnswer(this.#layout, folder, name, answer);
    } catch (error) {
      this.#log.warn({ group: folder, file: name, error }, 'could not answer an IPC request in responses/');
    }
  }

  /** Scans the group again at `at` (an earlier retry timer stands). */
  #retryAt(folder: string, at: number): void {
    if (this.#stopped) return;
    const current = this.#retryTimers.get(folder);
    if (current !== undefined && current.at <= at) return;
    if (current !== undefined) clearTimeout(current.timer);
    const timer = setTimeout(
      () => {
        this.#retryTimers.delete(folder);
        this.scan(folder);
      },
      Math.max(0, at - Date.now()),
    );
    this.#retryTimers.set(folder, { at, timer });
  }

  /** Drops retry state of files the agent removed. */
  #forgetGone(folder: string, kind: IpcKind, names: string[]): void {
    const present = new Set(names);
    const prefix = `${folder}/${kind}/`;
    for (const key of this.#pending.keys()) {
      if (key.startsWith(prefix) && !present.has(key.slice(prefix.length))) this.#pending.delete(key);
    }
    for (const key of this.#stuck) {
      if (key.startsWith(prefix) && !present.has(key.slice(prefix.length))) this.#stuck.delete(key);
    }
  }
}
