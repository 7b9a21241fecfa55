/**
 * Picks up request files from `data/ipc/{group}/messages/` and `tasks/` as they appear (fs.watch, with a
 * slow rescan as a fallback for events a filesystem does not deliver). Each file is handled once, in name
 * (time) order per group, then deleted; the group it speaks for is the directory it is in.
 */
import { existsSync, type FSWatcher, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { join } from 'node:path';
import { FOLDER_PATTERN, type Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { IpcKind } from './requests.ts';

export type FileHandler = (folder: string, kind: IpcKind, file: string, text: string) => Promise<void>;

const KINDS: IpcKind[] = ['messages', 'tasks'];
const RESCAN_MS = 10_000;

export class IpcWatcher {
  readonly #layout: Layout;
  readonly #handle: FileHandler;
  readonly #log: Logger;
  readonly #watchers = new Map<string, FSWatcher>();
  /** Per group: the scan in progress, and whether another was asked for meanwhile. */
  readonly #scans = new Map<string, { running: Promise<void>; again: boolean }>();
  #rescan: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(layout: Layout, handle: FileHandler, log: Logger) {
    this.#layout = layout;
    this.#handle = handle;
    this.#log = log;
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
    for (const kind of KINDS) {
      const dir = join(this.#layout.ipcDir(folder), kind);
      if (this.#watchers.has(dir) || !existsSync(dir)) continue;
      try {
        const watcher = watch(dir, () => this.scan(folder));
        watcher.on('error', (error) => {
          this.#log.warn({ dir, error }, 'IPC watch failed; the rescan still picks files up');
          watcher.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, watcher);
      } catch (error) {
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
    for (const kind of KINDS) {
      const dir = join(this.#layout.ipcDir(folder), kind);
      let names: string[];
      try {
        names = readdirSync(dir)
          .filter((name) => name.endsWith('.json'))
          .sort();
      } catch {
        continue;
      }
      for (const name of names) {
        if (this.#stopped) return;
        const path = join(dir, name);
        try {
          const text = readFileSync(path, 'utf8');
          await this.#handle(folder, kind, name, text);
        } catch (error) {
          this.#log.error({ group: folder, file: `${kind}/${name}`, error }, 'IPC request failed');
        } finally {
          rmSync(path, { force: true });
        }
      }
    }
  }
}
