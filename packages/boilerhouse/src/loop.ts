/**
 * A background loop: runs `tick` every `periodMs` until its signal aborts. A failed tick is logged and
 * the loop carries on. `kick()` runs the next tick now, or right after the one under way.
 */
import type { Logger } from './log.ts';

export class Loop {
  readonly #name: string;
  readonly #periodMs: number;
  readonly #tick: () => Promise<void>;
  readonly #log: Logger;
  #kicked = false;
  #wake: (() => void) | undefined;

  constructor(name: string, periodMs: number, tick: () => Promise<void>, log: Logger) {
    this.#name = name;
    this.#periodMs = periodMs;
    this.#tick = tick;
    this.#log = log;
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#kicked = false;
      try {
        await this.#tick();
      } catch (error) {
        this.#log.error({ loop: this.#name, error }, 'loop tick failed');
      }
      if (signal.aborted || this.#kicked) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.#wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, this.#periodMs);
        signal.addEventListener('abort', done, { once: true });
        this.#wake = done;
      });
    }
  }
}
