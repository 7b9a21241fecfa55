/**
 * The agent's side of `input/` (ipc-input.ts): follow-up messages delivered as turns, `_close` ending the
 * run after the current turn, and a run idle for IDLE_TIMEOUT ending by itself. Files are read in name
 * order and deleted once read.
 */
import { watch } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CLOSE_FILE, parseFollowUp } from './ipc-input.ts';
import type { Turn } from './turn.ts';

export interface FollowUpOptions {
  inputDir: string;
  idleTimeoutMs: number;
  /** A fallback scan in case a file event is missed (events are the fast path). */
  pollMs?: number;
  onMessage(turn: Turn): void;
  onClose(reason: 'close' | 'idle'): void;
  log(message: string): void;
}

export interface FollowUpWatcher {
  /** A turn is running: the idle clock stops. */
  busy(): void;
  /** The agent has answered everything it was given: the idle clock starts. */
  idle(): void;
  stop(): void;
}

export async function watchFollowUps(options: FollowUpOptions): Promise<FollowUpWatcher> {
  const { inputDir, log } = options;
  await mkdir(inputDir, { recursive: true });
  let closed = false;
  let scanning = false;
  let rescan = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let delivered = 0;

  const close = (reason: 'close' | 'idle') => {
    if (closed) return;
    closed = true;
    stop();
    options.onClose(reason);
  };

  const scanOnce = async () => {
    const names = (await readdir(inputDir)).sort();
    for (const name of names) {
      if (closed || !name.endsWith('.json')) continue;
      const path = join(inputDir, name);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
        await unlink(path);
      } catch (error) {
        // Gone already (another scan took it) or unreadable: nothing to deliver.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
          log(`follow-up ${name}: ${(error as Error).message}`);
        continue;
      }
      const parsed = parseFollowUp(text);
      if ('error' in parsed) {
        log(`follow-up ${name} ignored: ${parsed.error}`);
        continue;
      }
      delivered += 1;
      watcher.busy();
      options.onMessage(parsed);
    }
    // Messages written before _close are delivered first, so none is lost to a close.
    if (!closed && names.includes(CLOSE_FILE)) {
      await unlink(join(inputDir, CLOSE_FILE)).catch(() => {});
      close('close');
    }
  };

  const scan = async () => {
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = true;
    try {
      do {
        rescan = false;
        await scanOnce();
      } while (rescan && !closed);
    } catch (error) {
      log(`follow-ups: cannot read ${inputDir}: ${(error as Error).message}`);
    } finally {
      scanning = false;
    }
  };

  const watcherHandle = watch(inputDir, () => void scan());
  watcherHandle.on('error', (error) => log(`follow-ups: watch failed, polling only: ${error.message}`));
  const poll = setInterval(() => void scan(), options.pollMs ?? 500);

  function stop() {
    watcherHandle.close();
    clearInterval(poll);
    clearTimeout(idleTimer);
  }

  const watcher: FollowUpWatcher = {
    busy: () => clearTimeout(idleTimer),
    idle: () => {
      clearTimeout(idleTimer);
      if (closed) return;
      idleTimer = setTimeout(async () => {
        // A last look, so that a message written just now is answered rather than left behind.
        const before = delivered;
        await scan();
        if (delivered === before) close('idle');
      }, options.idleTimeoutMs);
    },
    stop,
  };
  // Anything already waiting (written between the container's start and now) is part of this run.
  await scan();
  return watcher;
}
