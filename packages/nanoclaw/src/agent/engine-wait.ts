/**
 * Waiting out a Docker socket that is briefly gone. Under Boilerhouse the socket is its filtered one,
 * which is absent (ENOENT) or refuses (ECONNREFUSED) while its daemon restarts, and may cut a connection
 * it held (ECONNRESET, EPIPE). A call that fails that way is made again, after a back-off from 250 ms
 * doubling up to 5 s with ±20% jitter, until it answers or `budgetMs` (60 s) has passed since the first
 * failure; only then does its error stand. An answer of the engine (any HTTP status) is never retried
 * here. Each outage is counted and logged when it starts and when the engine answers again.
 */
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import type { Logger } from '../log.ts';

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTCONN', 'ETIMEDOUT']);

/** Whether `error` says the engine could not be reached (rather than that it answered no). */
export function isEngineUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  return statusCode === undefined && typeof code === 'string' && UNREACHABLE.has(code);
}

export interface EngineWaitOptions extends Backoff {
  budgetMs: number;
}

export const DEFAULT_ENGINE_WAIT: EngineWaitOptions = {
  budgetMs: 60_000,
  firstMs: 250,
  longestMs: 5_000,
  jitter: 0.2,
};

export class EngineWait {
  readonly #options: EngineWaitOptions;
  readonly #log: Logger;
  /** When the current outage was first seen; undefined while the engine answers. */
  #downSince: number | undefined;
  #outages = 0;

  constructor(log: Logger, options: EngineWaitOptions = DEFAULT_ENGINE_WAIT) {
    this.#log = log;
    this.#options = options;
  }

  /** Outages seen since start (each one logged). */
  get outages(): number {
    return this.#outages;
  }

  /** Whether the last call found the engine unreachable. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }

  /** `call`, made again while the engine cannot be reached, for up to the budget; `what` names it in the log. */
  async retry<T>(what: string, call: () => Promise<T>): Promise<T> {
    let began: number | undefined;
    for (let failures = 0; ; failures++) {
      try {
        const result = await call();
        this.#answered(what);
        return result;
      } catch (error) {
        if (!isEngineUnreachable(error)) {
          this.#answered(what);
          throw error;
        }
        began ??= Date.now();
        this.#unreachable(what, error);
        const delay = backoffDelay(this.#options, failures + 1);
        if (Date.now() - began + delay > this.#options.budgetMs) {
          this.#log.error(
            {
              what,
              attempts: failures + 1,
              waitedMs: Date.now() - began,
              code: (error as { code: string }).code,
            },
            'the Docker engine did not answer in time; giving up on this call',
          );
          throw error;
        }
        this.#log.debug(
          { what, attempt: failures + 1, code: (error as { code: string }).code, retryInMs: delay },
          'the Docker engine cannot be reached; trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #unreachable(what: string, error: unknown): void {
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    this.#outages++;
    this.#log.warn(
      { what, code: (error as { code: string }).code, outage: this.#outages },
      'the Docker engine cannot be reached; waiting for it',
    );
  }

  #answered(what: string): void {
    if (this.#downSince === undefined) return;
    this.#log.info(
      { what, downMs: Date.now() - this.#downSince, outage: this.#outages },
      'the Docker engine answers again',
    );
    this.#downSince = undefined;
  }
}
