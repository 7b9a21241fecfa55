/**
 * A workload's `sync.sink` -> a Sink. Credentials are named in the spec as environment variables and read
 * here, from the environment the caller passes, so a secret is never copied into the spec.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { S3Sink as S3SinkSpec, Sink as SinkSpec } from '@boilerhouse/spec';
import { checkKey } from './keys.ts';
import { LocalSink } from './local.ts';
import { type S3Credentials, S3Sink } from './s3.ts';
import { type Sink, SinkError } from './sink.ts';

export interface OpenSinkOptions {
  /** Boilerhouse's data directory: a relative local `path` is inside it; the default is `<dataDir>/sinks`. */
  dataDir: string;
  env: Record<string, string | undefined>;
  /** Keys are stored under it, `${tenantId}` already filled in: the S3 prefix, a sub-folder of a local sink. */
  prefix?: string;
}

export function openSink(spec: SinkSpec, options: OpenSinkOptions): Sink {
  const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (spec.type === 'local') {
    const base = spec.path === undefined ? join(options.dataDir, 'sinks') : spec.path;
    const root = isAbsolute(base) ? base : resolve(options.dataDir, base);
    if (prefix === '') return new LocalSink(root);
    checkKey(prefix, 'sink prefix');
    return new LocalSink(join(root, prefix));
  }
  return new S3Sink({
    bucket: spec.bucket,
    region: spec.region,
    prefix,
    endpoint: spec.endpoint,
    forcePathStyle: spec.forcePathStyle,
    credentials: spec.credentials && readCredentials(spec.credentials, options.env),
  });
}

function readCredentials(
  names: NonNullable<S3SinkSpec['credentials']>,
  env: Record<string, string | undefined>,
): S3Credentials {
  const read = (name: string) => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new SinkError(`the S3 sink's credentials name environment variable ${name}, which is not set`);
    }
    return value;
  };
  return {
    accessKeyId: read(names.accessKeyId.env),
    secretAccessKey: read(names.secretAccessKey.env),
    ...(names.sessionToken ? { sessionToken: read(names.sessionToken.env) } : {}),
  };
}
