/**
 * Where tenant state is kept: a flat key space of immutable-once-written objects. The snapshot store
 * (../snapshots) builds atomic, incremental saves on top of these few operations; every sink kind passes
 * one contract test (sink.contract.ts).
 *
 * Keys are `/`-separated, relative, and never contain `..` or empty segments. A sink never puts a
 * credential into an error message, a log line or its description.
 */
import type { Readable } from 'node:stream';

export interface Sink {
  /** Where it is, for messages and the API, without credentials: `local:/var/lib/...`, `s3://bucket/prefix`. */
  readonly description: string;
  /**
   * Stores an object whole: a reader sees the previous object or the new one, never a part of it, even
   * when the writer dies mid-way.
   */
  put(key: string, body: Buffer | Readable, options?: { length?: number }): Promise<void>;
  /** The whole object; rejects with SinkNotFoundError when there is none. */
  get(key: string): Promise<Buffer>;
  /** The object as a stream, for large objects; rejects with SinkNotFoundError when there is none. */
  getStream(key: string): Promise<Readable>;
  /** Whether the object exists. */
  exists(key: string): Promise<boolean>;
  /** Every key that starts with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes the objects; keys that do not exist are not an error. */
  delete(keys: string[]): Promise<void>;
}

/** The one error every sink reports for a missing object. */
export class SinkNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`no object ${key} in the sink`);
    this.name = 'SinkNotFoundError';
    this.key = key;
  }
}

/** Anything else a sink failed at; the message names the operation and key, never a credential. */
export class SinkError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'SinkError';
  }
}
