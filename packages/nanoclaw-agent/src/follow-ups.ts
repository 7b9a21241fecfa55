/**
 * Host -> running agent (AGENT-PROTOCOL.md, "Follow-ups and closing"): `input/{time}-{rand}.json` files
 * are follow-up messages, `input/_close` ends the run after the current turn, and a run idle for
 * IDLE_TIMEOUT ends by itself. Files are read in name order and deleted once read.
 */
import { watch } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, parseImages } from './input.ts';
import type { Turn } from './turn.ts';

export const CLOSE_FILE = '_close';

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

/** The turn of one follow-up file (its text and images), or why it cannot be one. */
export function parseFollowUp(text: string): Turn | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const message = body as { type?: unknown; text?: unknown; images?: unknown } | null;
  if (message?.type !== 'message') return { error: 'expected "type": "message"' };
  if (typeof message.text !== 'string' || message.text.trim() === '')
    return { error: 'expected "text" to be a non-empty string' };
  try {
    return { text: message.text, images: parseImages(message.images, 'images') };
  } catch (error) {
    if (error instanceof InputError) return { error: error.message };
    throw error;
  }
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
