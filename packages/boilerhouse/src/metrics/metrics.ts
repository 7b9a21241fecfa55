/**
 * Prometheus metrics of one daemon, in a registry of its own (never prom-client's global one). Pool gauges
 * are read at scrape time; claim, release, state and watch metrics follow the activity events and signals
 * as they happen; HTTP timings come from the API's middleware. Labels name workloads, never tenants or
 * instances (unbounded).
 *
 *   const metrics = new Metrics(boilerhouse, log);   // once per daemon
 *   createApp(boilerhouse, { ..., metrics });         // serves GET /metrics, reports each request
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Boilerhouse } from '../boilerhouse.ts';
import type { ActivityEvent } from '../db/events.ts';
import type { Logger } from '../log.ts';
import type { Signal } from '../pool/signals.ts';
import { claimMetrics } from './claims.ts';
import { dockerProxyMetrics } from './docker-proxy.ts';
import { gatewayMetrics } from './gateway.ts';
import { HttpMetrics } from './http.ts';
import { instanceMetrics } from './instances.ts';
import { objectCacheMetrics } from './object-cache.ts';
import { poolGauges } from './pools.ts';
import { recoveryGauge } from './recovery.ts';
import { stateMetrics } from './state.ts';
import { upgradeMetrics } from './upgrades.ts';
import { wakeMetrics } from './wakes.ts';

const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** One concern's metrics, fed with what happens. */
export interface Feed {
  event?(event: ActivityEvent): void;
  signal?(signal: Signal): void;
}

export class Metrics {
  readonly #registry = new Registry();
  readonly #http: HttpMetrics;
  readonly #unsubscribe: (() => void)[];
  #scrapes = 0;

  constructor(
    boilerhouse: Pick<Boilerhouse, 'pools' | 'activity' | 'lastRecovery' | 'objectCache'>,
    log?: Logger,
  ) {
    const registry = this.#registry;
    // Node's process metrics keep their usual names (process_*, nodejs_*) so stock dashboards work.
    collectDefaultMetrics({ register: registry });
    // Except three gauges prom-client names like counters (promtool flags them): their per-type
    // siblings (nodejs_active_handles{type}, ...) stay, and sum() gives the same total.
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
    poolGauges(
      registry,
      () => boilerhouse.pools(),
      () => this.#scrapes,
    );
    recoveryGauge(registry, () => boilerhouse.lastRecovery);
    objectCacheMetrics(registry, () => boilerhouse.objectCache?.stats());
    this.#http = new HttpMetrics(registry);
    const feeds = [
      claimMetrics(registry),
      stateMetrics(registry),
      instanceMetrics(registry),
      dockerProxyMetrics(registry),
      gatewayMetrics(registry),
      wakeMetrics(registry),
      upgradeMetrics(registry),
    ];
    // Listeners run inside the code that records: a metrics bug must never fail a claim or a release.
    const dispatch = (deliver: (feed: Feed) => void) => {
      for (const feed of feeds) {
        try {
          deliver(feed);
        } catch (error) {
          log?.warn({ error }, 'metrics: could not count an observation');
        }
      }
    };
    this.#unsubscribe = [
      boilerhouse.activity.subscribe((event) => dispatch((feed) => feed.event?.(event))),
      boilerhouse.activity.signals.subscribe((signal) => dispatch((feed) => feed.signal?.(signal))),
    ];
  }

  /**
   * The exposition text for GET /metrics, and the content type to send it with. Written one metric at a
   * time with a turn of the event loop between them (what `registry.metrics()` writes in one go), so that a
   * scrape never holds up the API's requests for more than a fraction of a millisecond.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    this.#scrapes++;
    const parts: string[] = [];
    for (const metric of this.#registry.getMetricsAsArray()) {
      parts.push(await this.#registry.getSingleMetricAsString(metric.name));
      await nextTurn();
    }
    return { contentType: this.#registry.contentType, body: `${parts.join('\n\n')}\n` };
  }

  /** One request served; `route` is the matched route's template, never the raw path. */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.#http.observe(method, route, status, seconds);
  }

  /** Stops following the activity. */
  close(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }
}
