/**
 * This host's cache of S3 saves' objects (state/sinks/object-cache.ts), read at scrape time: the share of
 * restored objects that came from disk, what it holds against its bound, and what it could not do.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ObjectCacheStats } from '../state/sinks/object-cache.ts';

export function objectCacheMetrics(registry: Registry, stats: () => ObjectCacheStats | undefined): void {
  const counter = (name: string, help: string, read: (stats: ObjectCacheStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = stats();
        this.reset();
        if (now !== undefined) this.inc(read(now));
      },
    });
  const gauge = (name: string, help: string, read: (stats: ObjectCacheStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const now = stats();
        this.set(now === undefined ? 0 : read(now));
      },
    });
  counter(
    'boilerhouse_state_cache_hits_total',
    "Objects of S3 saves (chunks, packs, manifests) a restore or save read from this host's cache.",
    (now) => now.hits,
  );
  counter(
    'boilerhouse_state_cache_hit_bytes_total',
    "Bytes a restore or save read from this host's cache instead of the bucket.",
    (now) => now.hitBytes,
  );
  counter(
    'boilerhouse_state_cache_misses_total',
    'Objects of S3 saves a restore or save had to read from the bucket (then cached).',
    (now) => now.misses,
  );
  counter(
    'boilerhouse_state_cache_errors_total',
    'Cache entries that could not be read or written, or were damaged (each logged as a warning; the bucket was read instead).',
    (now) => now.errors,
  );
  counter(
    'boilerhouse_state_cache_skipped_total',
    'Objects not cached because the disk had less than a tenth free.',
    (now) => now.skipped,
  );
  gauge(
    'boilerhouse_state_cache_bytes',
    "What this host's cache of S3 saves' objects holds.",
    (now) => now.bytes,
  );
}
