/**
 * A workload's sink, tried when the workload is applied or its file loaded rather than at its first claim.
 * An S3 sink gets one listing of at most one key, tried once and given up after `timeoutMs`, which tells
 * credentials refused, a bucket missing and an endpoint that does not answer apart. A local sink is a
 * directory of the daemon's own: there is nothing to try.
 */
import type { Sink as SinkSpec } from '@boilerhouse/spec';
import { failureCause } from '../save-errors.ts';
import { s3SinkOptions } from './open.ts';
import { S3Sink } from './s3.ts';

/** Long enough for a distant endpoint's first TLS handshake; short enough for an apply to wait on. */
export const SINK_CHECK_TIMEOUT_MS = 5_000;

export type SinkFailure = 'credentials' | 'no_bucket' | 'unreachable' | 'other';

export interface SinkProblem {
  /** Where it is, without credentials: `s3://bucket at http://...`. */
  sink: string;
  bucket: string;
  failure: SinkFailure;
  /** One line naming the sink, the bucket, the reason and what to change. */
  message: string;
}

/** S3's codes for credentials it does not take (or that do not allow a listing). */
const REFUSED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
]);

/** Undefined when the sink answers a listing with these credentials (or is local). */
export async function checkSink(
  spec: SinkSpec,
  env: Record<string, string | undefined>,
  timeoutMs = SINK_CHECK_TIMEOUT_MS,
): Promise<SinkProblem | undefined> {
  if (spec.type !== 's3') return undefined;
  let sink: S3Sink;
  try {
    sink = new S3Sink({
      ...s3SinkOptions(spec, env),
      maxAttempts: 1,
      connectionTimeoutMs: timeoutMs,
      socketTimeoutMs: timeoutMs,
    });
  } catch (error) {
    // A credential variable that is not set: said by name, never with a value.
    const message = `the S3 sink s3://${spec.bucket} cannot be used: ${(error as Error).message}`;
    return { sink: `s3://${spec.bucket}`, bucket: spec.bucket, failure: 'credentials', message };
  }
  try {
    await sink.probe(fixedPrefix(spec.prefix), AbortSignal.timeout(timeoutMs));
    return undefined;
  } catch (error) {
    const cause = (error as Error).cause as
      | { message?: string; s3Code?: string; status?: number }
      | undefined;
    const detail = cause?.message ?? (error as Error).message;
    const failure = failureOf(error, cause);
    const at = `the S3 sink ${sink.description}`;
    const message = {
      credentials: `${at} refused the credentials (${detail}): check the variables sync.sink.credentials names, and that they may list bucket "${spec.bucket}"`,
      no_bucket: `${at} has no bucket "${spec.bucket}" (${detail}): create it, or correct sync.sink.bucket`,
      unreachable: `${at} cannot be reached (${detail}): check sync.sink.endpoint and that the server is up`,
      other: `${at} failed a listing of bucket "${spec.bucket}" (${detail})`,
    }[failure];
    return { sink: sink.description, bucket: spec.bucket, failure, message };
  } finally {
    sink.destroy();
  }
}

function failureOf(error: unknown, cause: { s3Code?: string; status?: number } | undefined): SinkFailure {
  if (cause?.s3Code === 'NoSuchBucket') return 'no_bucket';
  if ((cause?.s3Code !== undefined && REFUSED.has(cause.s3Code)) || cause?.status === 403)
    return 'credentials';
  if (failureCause(error) === 'sink_unavailable') return 'unreachable';
  return 'other';
}

/** The prefix up to its first `${tenantId}`: the part every tenant's keys share. */
function fixedPrefix(prefix: string | undefined): string {
  return (prefix ?? '').split('${tenantId}')[0]?.replace(/^\/+/, '') ?? '';
}
