/**
 * A workload's `sync.sink` -> a Sink. Credentials are named in the spec as environment variables and read
 * here, from the environment the caller passes, so a secret is never copied into the spec.
 */
import { join, relative, resolve, sep } from 'node:path';
import type { S3Sink as S3SinkSpec, Sink as SinkSpec } from '@boilerhouse/spec';
import { checkKey } from './keys.ts';
import { LocalSink } from './local.ts';
import { type S3Credentials, S3Sink, type S3SinkOptions } from './s3.ts';
import { type Sink, SinkError } from './sink.ts';

export interface OpenSinkOptions {
  /**
   * Boilerhouse's data directory: a local `path` is relative to it and must lie in `<dataDir>/sinks` (the
   * default), never beside the database and secret.key or anywhere else on the host.
   */
  dataDir: string;
  env: Record<string, string | undefined>;
  /** Keys are stored under it, `${tenantId}` already filled in: the S3 prefix, a sub-folder of a local sink. */
  prefix?: string;
}

export function openSink(spec: SinkSpec, options: OpenSinkOptions): Sink {
  const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (spec.type === 'local') {
    const sinks = resolve(options.dataDir, 'sinks');
    const root = spec.path === undefined ? sinks : resolve(options.dataDir, spec.path);
    const inside = relative(sinks, root);
    if (inside === '..' || inside.startsWith(`..${sep}`)) {
      throw new SinkError(
        `a local sink's path must be inside the data directory's sinks folder (sinks/...); "${spec.path}" is not`,
      );
    }
    if (prefix === '') return new LocalSink(root);
    checkKey(prefix, 'sink prefix');
    return new LocalSink(join(root, prefix));
  }
  return new S3Sink({ ...s3SinkOptions(spec, options.env), prefix });
}

/** What an S3 sink of the spec is opened with, its credentials read from `env`. */
export function s3SinkOptions(
  spec: S3SinkSpec,
  env: Record<string, string | undefined>,
): Omit<S3SinkOptions, 'prefix'> {
  return {
    bucket: spec.bucket,
    region: spec.region,
    endpoint: spec.endpoint,
    forcePathStyle: spec.forcePathStyle,
    credentials: spec.credentials && readCredentials(spec.credentials, env),
  };
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
