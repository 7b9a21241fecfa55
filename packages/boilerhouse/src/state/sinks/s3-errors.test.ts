import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isNotFound, S3Errors } from './s3-errors.ts';
import { SinkError, SinkNotFoundError } from './sink.ts';

describe('S3Errors', () => {
  const errors = new S3Errors('s3://bucket/prefix', ['KEYID123', 'topsecret']);

  it('blots credential values out of the message and drops what else the error carried', () => {
    const sdkError = Object.assign(new Error('key KEYID123 signed with topsecret was refused'), {
      name: 'SignatureDoesNotMatch',
      AWSAccessKeyId: 'KEYID123',
      $metadata: { httpStatusCode: 403 },
    });
    const error = errors.sinkError('put', 'a/b', sdkError);
    expect(error.message).toBe(
      's3 put a/b in s3://bucket/prefix failed: SignatureDoesNotMatch: key [redacted] signed with [redacted] was refused (HTTP 403)',
    );
    const shown = inspect(error, { depth: 20, showHidden: true });
    expect(shown).not.toContain('KEYID123');
    expect(shown).not.toContain('topsecret');
  });

  it('names a connection error by its code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(errors.sinkError('list', '', refused).message).toContain('failed: ECONNREFUSED: connect');
  });

  it("keeps the connection error's code and the HTTP status, which tell a sink that is down apart", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const timedOut = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    const unavailable = Object.assign(new Error('busy'), {
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    expect(errors.sinkError('put', 'k', refused).cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(errors.sinkError('put', 'k', timedOut).cause).toMatchObject({ code: 'ETIMEDOUT' });
    expect(errors.sinkError('put', 'k', unavailable).cause).toMatchObject({ status: 503 });
  });

  it('tells a missing object from a missing bucket', () => {
    const noKey = Object.assign(new Error('no key'), {
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    });
    const head404 = Object.assign(new Error('UnknownError'), {
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
    const noBucket = Object.assign(new Error('no bucket'), {
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    });
    expect([isNotFound(noKey), isNotFound(head404), isNotFound(noBucket)]).toEqual([true, true, false]);
    expect(errors.readError('get', 'k', noKey)).toBeInstanceOf(SinkNotFoundError);
    expect(errors.readError('get', 'k', noBucket)).toBeInstanceOf(SinkError);
    expect(errors.readError('get', 'k', noBucket)).not.toBeInstanceOf(SinkNotFoundError);
  });
});
