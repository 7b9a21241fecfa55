/**
 * A sink in an S3 bucket (AWS or any S3-compatible server), under an optional key prefix. S3 makes every
 * PutObject visible whole, so put needs no temporary key. Objects are a few MiB at most (the snapshot store
 * chunks large files), so each is one PutObject of a known length: no multipart uploads to abort.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { checkKey, checkPrefix, compareKeys } from './keys.ts';
import { S3Errors } from './s3-errors.ts';
import type { Sink } from './sink.ts';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3SinkOptions {
  bucket: string;
  region: string;
  /** Every key is stored under it, as under a folder: `tenants/alice` holds `tenants/alice/<key>`. */
  prefix?: string;
  /** An S3-compatible server other than AWS, e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Without them the SDK's default chain (environment, profile, role) is used. */
  credentials?: S3Credentials;
  /** Attempts per request, the first included. Default 3. */
  maxAttempts?: number;
  /** Default 5 s. */
  connectionTimeoutMs?: number;
  /** How long a connection may sit idle mid-request. Default 60 s. */
  socketTimeoutMs?: number;
  /** Keys per ListObjectsV2 page and per DeleteObjects batch, at most (and by default) S3's 1000. */
  pageSize?: number;
}

/** The snapshot store sends many small requests at once; reuse connections, up to this many. */
const MAX_SOCKETS = 32;

export class S3Sink implements Sink {
  readonly description: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #pageSize: number;
  readonly #errors: S3Errors;

  constructor(options: S3SinkOptions) {
    this.#bucket = options.bucket;
    this.#prefix = folderPrefix(options.prefix ?? '');
    this.#pageSize = Math.min(options.pageSize ?? 1000, 1000);
    const at = options.endpoint ? ` at ${withoutUserInfo(options.endpoint)}` : '';
    this.description = `s3://${options.bucket}${this.#prefix ? `/${this.#prefix.slice(0, -1)}` : ''}${at}`;
    const { credentials } = options;
    this.#errors = new S3Errors(this.description, [
      credentials?.accessKeyId,
      credentials?.secretAccessKey,
      credentials?.sessionToken,
      ...userInfo(options.endpoint),
    ]);
    const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.#client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      ...(credentials ? { credentials } : {}),
      maxAttempts: options.maxAttempts ?? 3,
      // Checksums only where S3 demands them: with the SDK's default, bodies go out aws-chunked with
      // trailing checksums, which S3-compatible servers such as s3rver store verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: new HttpAgent(agent),
        httpsAgent: new HttpsAgent(agent),
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        socketTimeout: options.socketTimeoutMs ?? 60_000,
      },
    });
  }

  async put(key: string, body: Buffer): Promise<void> {
    checkKey(key);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          Body: body,
          ContentLength: body.length,
        }),
      );
    } catch (error) {
      throw this.#errors.sinkError('put', key, error);
    }
  }

  async get(key: string): Promise<Buffer> {
    checkKey(key);
    try {
      const { Body } = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      );
      if (Body === undefined) throw new Error('the response has no body');
      return Buffer.from(await Body.transformToByteArray());
    } catch (error) {
      throw this.#errors.readError('get', key, error);
    }
  }

  async *stream(key: string): AsyncIterable<Buffer> {
    checkKey(key);
    let body: AsyncIterable<Uint8Array>;
    try {
      const { Body } = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      );
      if (Body === undefined) throw new Error('the response has no body');
      // In Node the body is the response stream itself.
      body = Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      throw this.#errors.readError('get', key, error);
    }
    try {
      for await (const piece of body) yield Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    } catch (error) {
      throw this.#errors.sinkError('get', key, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            MaxKeys: this.#pageSize,
            ContinuationToken,
          }),
        );
        for (const { Key } of page.Contents ?? []) {
          if (Key !== undefined) keys.push(Key.slice(this.#prefix.length));
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    } catch (error) {
      throw this.#errors.sinkError('list', prefix, error);
    }
    return keys.sort(compareKeys);
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) checkKey(key);
    for (let start = 0; start < keys.length; start += this.#pageSize) {
      const batch = keys.slice(start, start + this.#pageSize);
      let failures: { Key?: string; Code?: string; Message?: string }[];
      try {
        const result = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#prefix + key })), Quiet: true },
          }),
        );
        failures = result.Errors ?? [];
      } catch (error) {
        throw this.#errors.sinkError('delete', batch[0] ?? '', error);
      }
      // S3 reports a missing key as deleted; anything listed here really failed.
      const [first] = failures;
      if (first) {
        const key = first.Key?.slice(this.#prefix.length) ?? batch[0] ?? '';
        const failure = Object.assign(new Error(first.Message ?? ''), { name: first.Code ?? 'Error' });
        throw this.#errors.sinkError('delete', key, failure);
      }
    }
  }

  /**
   * One listing of at most one key under `prefix`, given up when `signal` aborts: that the endpoint answers,
   * takes the credentials and has the bucket. Rejects with a SinkError, whose `reachFailure` says which failed.
   */
  async probe(prefix: string, signal: AbortSignal): Promise<void> {
    checkPrefix(prefix);
    try {
      await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix + prefix, MaxKeys: 1 }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw this.#errors.sinkError('list', prefix, signal.aborted ? signal.reason : error);
    }
  }

  /** Closes the connections it keeps alive. */
  destroy(): void {
    this.#client.destroy();
  }
}

/** `tenants/alice` and `/tenants/alice/` both become `tenants/alice/`; `''` stays `''`. */
function folderPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  checkKey(trimmed, 'S3 prefix');
  return `${trimmed}/`;
}

/** The endpoint as shown in messages: a `user:password@` in it is dropped. */
function withoutUserInfo(endpoint: string): string {
  const url = URL.parse(endpoint);
  if (!url) return endpoint.replace(/\/\/[^/]*@/, '//');
  url.username = '';
  url.password = '';
  return url.href.replace(/\/$/, '');
}

/** The user name and password an endpoint URL carries, to blot out of messages like credentials. */
function userInfo(endpoint: string | undefined): string[] {
  const url = endpoint === undefined ? null : URL.parse(endpoint);
  return url ? [url.username, url.password] : [];
}
