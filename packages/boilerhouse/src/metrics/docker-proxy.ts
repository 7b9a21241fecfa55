/**
 * Filtered Docker sockets: requests refused, by workload, endpoint template (`POST /containers/create`,
 * never a raw path or a container id) and reason (`create_policy`, `bind`, `not_own_container`, ...).
 */
import { Counter, type Registry } from 'prom-client';
import type { Feed } from './metrics.ts';

export function dockerProxyMetrics(registry: Registry): Feed {
  const denials = new Counter({
    name: 'boilerhouse_docker_proxy_denials_total',
    help: "Requests an instance's filtered Docker socket refused, by endpoint template and reason.",
    labelNames: ['workload', 'endpoint', 'reason'],
    registers: [registry],
  });
  return {
    signal(signal) {
      if (signal.type !== 'docker.denied') return;
      denials.inc({ workload: signal.workload, endpoint: signal.endpoint, reason: signal.reason });
    },
  };
}
