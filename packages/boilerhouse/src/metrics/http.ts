/**
 * HTTP requests: duration by method, route template (`/api/v1/tenants/:tenant`, never the raw path) and
 * status code, as the API's middleware reports them. Methods and routes are capped so that no caller can
 * mint label values.
 */
import { Histogram, type Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** More distinct routes than the API has means something passes raw paths: the rest become `other`. */
const MAX_ROUTES = 100;

export class HttpMetrics {
  readonly #requests: Histogram<'method' | 'route' | 'status'>;
  readonly #routes = new Set<string>();

  constructor(registry: Registry) {
    this.#requests = new Histogram({
      name: 'boilerhouse_http_request_duration_seconds',
      help: 'HTTP requests served, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    if (!this.#routes.has(route)) {
      if (this.#routes.size < MAX_ROUTES) this.#routes.add(route);
      else route = 'other';
    }
    const upper = method.toUpperCase();
    this.#requests.observe(
      {
        method: METHODS.has(upper) ? upper : 'other',
        route,
        status: Number.isInteger(status) && status >= 100 && status < 600 ? String(status) : 'other',
      },
      seconds,
    );
  }
}
