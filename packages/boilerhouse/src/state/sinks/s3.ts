/**
 * A sink in an S3 bucket (AWS or any S3-compatible server), under an optional key prefix. S3 makes every
 * PutObject and completed multipart upload visible whole, so put needs no temporary key; an upload that
 * fails is aborted.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkedBody } from './body.ts';
import { checkKey, checkPrefix, compareKeys } from './keys.ts';
import { isNotFound, S3Errors } from './s3-errors.ts';
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

/** Bodies up to this size go in one PutObject; larger ones and streams in parts of this size. */
const PART_SIZE = 8 * 1024 * 1024;
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

  async put(key: string, body: Buffer | Readable, options: { length?: number } = {}): Promise<void> {
    checkKey(key);
    const Key = this.#prefix + key;
    try {
      const source = checkedBody(body, options.length);
      if (Buffer.isBuffer(source) && source.length <= PART_SIZE) {
        const length = source.length;
        await this.#client.send(
          new PutObjectCommand({ Bucket: this.#bucket, Key, Body: source, ContentLength: length }),
        );
      } else {
        await this.#upload(Key, source);
      }
    } catch (error) {
      if (!Buffer.isBuffer(body)) body.destroy(); // the caller's source is not left open
      throw this.#errors.sinkError('put', key, error);
    }
  }

  /** A multipart upload (a single PutObject when the body fits in one part); aborted if it fails. */
  async #upload(Key: string, Body: Buffer | Readable): Promise<void> {
    const params = { Bucket: this.#bucket, Key, Body };
    // We abort a failed upload ourselves: the SDK's own abort would replace the upload's error with the
    // abort's when that fails too (s3rver has no AbortMultipartUpload), losing what went wrong.
    const upload = new Upload({ client: this.#client, params, partSize: PART_SIZE, leavePartsOnError: true });
    try {
      await upload.done();
    } catch (error) {
      const { uploadId: UploadId } = upload;
      if (UploadId !== undefined) {
        const abort = new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId });
        await this.#client.send(abort).catch(() => {}); // best effort: parts left behind only cost space
      }
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    const stream = await this.#open('get', key);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (error) {
      throw this.#errors.sinkError('get', key, error);
    }
    return Buffer.concat(chunks);
  }

  getStream(key: string): Promise<Readable> {
    return this.#open('getStream', key);
  }

  async #open(operation: string, key: string): Promise<Readable> {
    checkKey(key);
    try {
      const { Body } = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      );
      // In Node the SDK's body is the HTTP response, a Readable.
      if (!(Body instanceof Readable)) throw new Error('the response has no readable body');
      return Body;
    } catch (error) {
      throw this.#errors.readError(operation, key, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    checkKey(key);
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.#errors.sinkError('exists', key, error);
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
