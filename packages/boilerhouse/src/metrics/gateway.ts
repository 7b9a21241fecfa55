/**
 * The gateway: answers by workload and status class (from the socket host's traffic reports), wakes on
 * request by claim path (hit, warm, cold) and how long the held request waited, and wakes that failed.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Feed } from './metrics.ts';

const WAKE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function gatewayMetrics(registry: Registry): Feed {
  const answered = new Counter({
    name: 'boilerhouse_gateway_requests_total',
    help: 'Requests answered at the gateway, by workload and status class (101: WebSocket).',
    labelNames: ['workload', 'status'],
    registers: [registry],
  });
  const wakes = new Counter({
    name: 'boilerhouse_gateway_wakes_total',
    help: 'Tenants woken by a request at the gateway, by claim path (hit, warm, cold).',
    labelNames: ['workload', 'path'],
    registers: [registry],
  });
  const wakeSeconds = new Histogram({
    name: 'boilerhouse_gateway_wake_seconds',
    help: 'From the first held request to the tenant woken (its route at the gateway), by claim path.',
    labelNames: ['workload', 'path'],
    buckets: WAKE_BUCKETS,
    registers: [registry],
  });
  const failed = new Counter({
    name: 'boilerhouse_gateway_wake_failures_total',
    help: 'Wakes the gateway asked for that failed (their held requests got a 5xx).',
    labelNames: ['workload'],
    registers: [registry],
  });
  return {
    event(event) {
      if (event.type !== 'tenant.woken' || event.data?.trigger !== 'request' || event.workload === null)
        return;
      const path = String(event.data.path);
      wakes.inc({ workload: event.workload, path });
      wakeSeconds.observe({ workload: event.workload, path }, Number(event.data.latencyMs) / 1000);
    },
    signal(signal) {
      if (signal.type === 'gateway.answered')
        answered.inc({ workload: signal.workload, status: signal.status }, signal.count);
      if (signal.type === 'gateway.wake_failed') failed.inc({ workload: signal.workload });
    },
  };
}
