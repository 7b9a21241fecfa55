/**
 * Requests held while their tenant wakes. The first request for a tenant with no route asks the daemon
 * for a wake; later ones join it (one claim however many requests). Each request waits at most its
 * workload's wake_timeout. A wake stays pending while no daemon is connected, and is asked for again when
 * one connects (`pending()`), so a daemon restart in the middle loses none.
 */
import type { GatewayForm } from './target.ts';
import { type GatewayRoute, routeKey, type WakeAsk, type WakeOutcome } from './wire.ts';

/** Why a held request is answered without its instance. */
export class WakeFailed extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface Waiter {
  resolve: (route: GatewayRoute) => void;
  reject: (error: WakeFailed) => void;
}

interface Pending {
  ask: WakeAsk;
  waiters: Set<Waiter>;
}

export class HeldRequests {
  readonly #pending = new Map<string, Pending>();
  readonly #ask: (ask: WakeAsk) => void;

  constructor(ask: (ask: WakeAsk) => void) {
    this.#ask = ask;
  }

  /** Resolves with the tenant's route once it is woken; rejects with WakeFailed (504 after `timeoutMs`). */
  hold(
    request: { workload: string; tenant: string; form: GatewayForm; method: string },
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<GatewayRoute> {
    const key = routeKey(request.workload, request.tenant);
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = { ask: { type: 'wake', ...request, since: Date.now() }, waiters: new Set() };
      this.#pending.set(key, pending);
      this.#ask(pending.ask);
    }
    const entry = pending;
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', gone);
        entry.waiters.delete(waiter);
        if (entry.waiters.size === 0 && this.#pending.get(key) === entry) this.#pending.delete(key);
      };
      const waiter: Waiter = {
        resolve: (route) => {
          leave();
          resolve(route);
        },
        reject: (error) => {
          leave();
          reject(error);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.reject(
            new WakeFailed(
              504,
              'wake_timeout',
              `the tenant's instance was not ready within the wake timeout (${timeoutMs / 1000} s); try again`,
            ),
          ),
        timeoutMs,
      );
      // The caller hung up: nothing to answer.
      const gone = () => waiter.reject(new WakeFailed(499, 'gone', 'the caller hung up'));
      signal.addEventListener('abort', gone, { once: true });
      entry.waiters.add(waiter);
    });
  }

  /** The tenant's route arrived: its held requests go on. */
  routed(key: string, route: GatewayRoute): void {
    const pending = this.#pending.get(key);
    if (pending === undefined) return;
    this.#pending.delete(key);
    for (const waiter of [...pending.waiters]) waiter.resolve(route);
  }

  /** The daemon's answer; an ok one whose route is not there yet waits for the route. */
  done(outcome: WakeOutcome, route: GatewayRoute | undefined): void {
    const key = routeKey(outcome.workload, outcome.tenant);
    if (outcome.ok) {
      if (route !== undefined) this.routed(key, route);
      return;
    }
    const pending = this.#pending.get(key);
    if (pending === undefined) return;
    this.#pending.delete(key);
    const error = new WakeFailed(outcome.status, outcome.code, outcome.message, outcome.retryAfterSeconds);
    for (const waiter of [...pending.waiters]) waiter.reject(error);
  }

  /** Wakes still waited for: asked for again when a daemon connects. */
  pending(): WakeAsk[] {
    return [...this.#pending.values()].map((pending) => pending.ask);
  }

  get size(): number {
    return this.#pending.size;
  }
}
