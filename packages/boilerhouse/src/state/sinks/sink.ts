/**
 * Where tenant state is kept: a flat key space of immutable-once-written objects. The snapshot store
 * (../snapshots) builds atomic, incremental saves on top of these few operations; every sink kind passes
 * one contract test (sink.contract.ts).
 *
 * Keys are `/`-separated, relative, and never contain `..` or empty segments. A sink never puts a
 * credential into an error message, a log line or its description.
 */
export interface Sink {
  /** Where it is, for messages and the API, without credentials: `local:/var/lib/...`, `s3://bucket/prefix`. */
  readonly description: string;
  /**
   * Stores an object whole (objects are at most a few MiB: the snapshot store cuts large files into
   * chunks). A put that fails may leave a torn object behind on some S3-compatible servers; the snapshot
   * store never trusts an object no published save refers to, and checks every object's hash on restore.
   */
  put(key: string, body: Buffer): Promise<void>;
  /** The whole object; rejects with SinkNotFoundError when there is none. */
  get(key: string): Promise<Buffer>;
  /**
   * The object piece by piece as it arrives, for a caller that writes it out as it comes instead of
   * holding it whole first; the first read rejects with SinkNotFoundError when there is none. A caller
   * that stops early (returns from the iteration) lets go of the object's connection or file.
   */
  stream(key: string): AsyncIterable<Buffer>;
  /**
   * Only on a sink that checks content itself (the host's cache checks every object it serves):
   * `stream` of an object named by the SHA-256 of its content, every byte checked against `sha256` by
   * the sink, so that the caller need not hash it a second time. Rejects with SinkContentError once the
   * content is known not to be what `sha256` names.
   */
  streamVerified?(key: string, sha256: string): AsyncIterable<Buffer>;
  /**
   * Only on a sink that keeps objects by their content (the host's cache): `get` of an object the caller
   * knows the SHA-256 of though its key does not name it (a manifest, by the hash HEAD records), answered
   * without a request when that content is at hand. Content that does not match is returned as read and
   * is the caller's to judge.
   */
  getByContent?(key: string, sha256: string): Promise<Buffer>;
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

/** An object whose content is not what the SHA-256 it was read by names (streamVerified). */
export class SinkContentError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`the object ${key} in the sink does not hold the content its name records`);
    this.name = 'SinkContentError';
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
