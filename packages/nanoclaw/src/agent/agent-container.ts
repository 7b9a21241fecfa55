/** A started agent run: its end, a turn timer the caller arms, and a way to kill it. */
import type { Logger } from '../log.ts';
import type { EngineContainer } from './engine.ts';

export type StopReason = 'timeout' | 'output_limit' | 'stopped';

export interface RunEnd {
  exitCode: number | null;
  /** Set when the host killed it. */
  stopReason?: StopReason;
  durationMs: number;
}

export class AgentContainer {
  readonly name: string;
  /** Resolves once the container has exited and been removed; never rejects. */
  readonly done: Promise<RunEnd>;
  readonly #container: EngineContainer;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #stopReason: StopReason | undefined;

  constructor(
    name: string,
    container: EngineContainer,
    finish: (self: AgentContainer) => Promise<RunEnd>,
    log: Logger,
  ) {
    this.name = name;
    this.#container = container;
    this.#log = log;
    this.done = finish(this);
  }

  get stopReason(): StopReason | undefined {
    return this.#stopReason;
  }

  /** Kills the container unless disarmed within `ms`. */
  armTimeout(ms: number): void {
    this.disarmTimeout();
    this.#timer = setTimeout(() => this.kill('timeout'), ms);
    this.#timer.unref();
  }

  disarmTimeout(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  kill(reason: StopReason): void {
    if (this.#stopReason !== undefined) return;
    this.#stopReason = reason;
    this.disarmTimeout();
    this.#log.warn({ container: this.name, reason }, 'killing agent container');
    this.#container.kill().catch((error: { statusCode?: number }) => {
      // 404/409: it has already gone or stopped.
      if (error.statusCode !== 404 && error.statusCode !== 409) {
        this.#log.error({ container: this.name, error }, 'could not kill agent container');
      }
    });
  }
}
