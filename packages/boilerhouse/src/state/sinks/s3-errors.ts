/**
 * S3 failures, told apart and made safe to show. SDK errors carry what the server sent back (s3rver and
 * AWS put the access key id into InvalidAccessKeyId and SignatureDoesNotMatch errors), so a SinkError
 * never keeps the SDK error itself: its message and cause are rebuilt from the error's name, message,
 * code and HTTP status, with every known credential value blotted out.
 */
import { SinkError, SinkNotFoundError } from './sink.ts';

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Whether the error says "no such object" (HeadObject's 404 has no body, hence no name to go by). */
export function isNotFound(error: unknown): boolean {
  const { name, $metadata } = (error ?? {}) as SdkError;
  return name === 'NoSuchKey' || ($metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket');
}

/** Turns a sink's SDK errors into SinkErrors. */
export class S3Errors {
  readonly #where: string;
  readonly #secrets: string[];

  /** `where`: the sink's description; `secrets`: every credential value it was given. */
  constructor(where: string, secrets: (string | undefined)[]) {
    this.#where = where;
    // Longest first, so a secret that contains another is blotted out whole.
    this.#secrets = secrets.filter((s): s is string => !!s).sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.replaceAll(secret, '[redacted]');
    return out;
  }

  /** For get: a SinkNotFoundError for a missing object, else a SinkError. */
  readError(operation: string, key: string, error: unknown): Error {
    return isNotFound(error) ? new SinkNotFoundError(key) : this.sinkError(operation, key, error);
  }

  sinkError(operation: string, key: string, error: unknown): SinkError {
    if (error instanceof SinkError) return error;
    const detail = this.scrub(describe(error));
    // What tells a sink that is down from one that refused (state/save-errors.ts, sinks/check.ts): the
    // connection error's code, the HTTP status, S3's error code. None carries a credential.
    const { code, name, $metadata } = (error ?? {}) as SdkError;
    const cause = Object.assign(new Error(detail), {
      code: name === 'TimeoutError' ? 'ETIMEDOUT' : code,
      status: $metadata?.httpStatusCode,
      // S3's error code (NoSuchBucket, InvalidAccessKeyId, ...): it tells a refusal's reason apart.
      s3Code: name,
    });
    cause.name = 'S3Error';
    return new SinkError(`s3 ${operation} ${key} in ${this.#where} failed: ${detail}`, { cause });
  }
}

/** `NoSuchBucket: The specified bucket does not exist (HTTP 404)`, `ECONNREFUSED: connect ...`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { name, code, $metadata } = error as SdkError;
  // Node's connection errors are plain Errors with a code; one to several addresses is an AggregateError.
  const label = code && (name === 'Error' || name === 'AggregateError') ? code : name;
  const inner = error instanceof AggregateError ? error.errors.map((e) => String(e?.message ?? e)) : [];
  const message = error.message || inner.join('; ') || '(no message)';
  const status = $metadata?.httpStatusCode ? ` (HTTP ${$metadata.httpStatusCode})` : '';
  return `${label}: ${message}${status}`;
}
