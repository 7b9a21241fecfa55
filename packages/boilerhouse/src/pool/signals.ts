/**
 * Observations too small or too frequent for a row in the events table, heard live by whoever listens
 * (the metrics): a claim that failed, how long a release took, a failed health test, an idle deadline pushed
 * out by writes or reached. Nothing is stored and nothing is logged. Workload ids only: never a tenant.
 */
import { EventEmitter } from 'node:events';

export type Signal =
  | { type: 'claim.failed'; workload: string; code: string }
  /** A claim by a tenant that already held a claimed instance: answered with it, nothing recorded. */
  | { type: 'claim.repeated'; workload: string; seconds: number }
  | {
      type: 'release.finished';
      workload: string;
      outcome: 'reserved' | 'destroyed' | 'failed';
      /** How a reserved instance waits (pool.reserve); `none` when it was not reserved. */
      reserve: 'run' | 'pause' | 'none';
      seconds: number;
    }
  | { type: 'health.failed'; workload: string }
  /**
   * A save tried again after it failed: a release's (release_failed) or a dead container's (failed). Never
   * given up on while the data is there: the delay is capped (5 min) and jittered, and each one counted.
   */
  | { type: 'save.retried'; workload: string; of: 'release' | 'dead_instance' }
  /** A save that found nothing changed since the last one: nothing uploaded, no event recorded. */
  | { type: 'state.unchanged'; workload: string; seconds: number }
  /** Writes moved a claimed instance's idle deadline (pool.file_idle_ttl) out; at most once per idle tick. */
  | { type: 'idle.reset'; workload: string }
  /** A claimed instance reached its idle deadline and is being released. */
  | { type: 'idle.expired'; workload: string }
  /** An instance's filtered Docker socket refused a request (endpoint template, reason code). */
  | { type: 'docker.denied'; workload: string; endpoint: string; reason: string }
  /**
   * A scheduled wake (pool/wakes.ts) claimed its tenant (woken), found it claimed already (running), failed
   * to claim it and will try again (failed), or gave up (given_up).
   */
  | {
      type: 'wake.finished';
      workload: string;
      trigger: 'schedule' | 'every';
      outcome: 'woken' | 'running' | 'failed' | 'given_up';
    }
  /** Answers through the gateway since its last report, by status class ("2xx", "101", "5xx", ...). */
  | { type: 'gateway.answered'; workload: string; status: string; count: number }
  /** A wake the gateway asked for failed (its held requests got a 5xx). */
  | { type: 'gateway.wake_failed'; workload: string }
  /**
   * A tenant's instance of an older version moved off it (saved, then destroyed; pool/upgrades.ts): at its
   * release, as a reservation the fill loop replaced, or by `workload upgrade --now`; or a move that failed
   * and left the tenant where it was.
   */
  | {
      type: 'upgrade.moved';
      workload: string;
      at: 'release' | 'reservation' | 'command';
      outcome: 'moved' | 'failed';
    };

export class Signals {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  emit(signal: Signal): void {
    this.#emitter.emit('signal', signal);
  }

  /** Calls `listener` for every signal from now on; returns the function that stops it. */
  subscribe(listener: (signal: Signal) => void): () => void {
    this.#emitter.on('signal', listener);
    return () => this.#emitter.off('signal', listener);
  }
}
