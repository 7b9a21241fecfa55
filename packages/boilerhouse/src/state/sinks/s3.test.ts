import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSink } from './open.ts';
import { S3Sink, type S3SinkOptions } from './s3.ts';
import { S3RVER_CREDENTIALS, type S3Server, startS3Server } from './s3-server.ts';
import { runSinkContract } from './sink.contract.ts';
import { SinkError } from './sink.ts';

let server: S3Server;
let prefixes = 0;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server.stop());

/** A sink on the shared server, under a prefix of its own so that tests do not see each other's keys. */
function s3Sink(options: Partial<S3SinkOptions> = {}): S3Sink {
  return new S3Sink({
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    prefix: `test-${++prefixes}`,
    ...options,
  });
}

/** What a failure shows anywhere: message, cause, stack and every property, inspected deeply. */
async function failure(operation: Promise<unknown>): Promise<string> {
  const error = await operation.then(
    () => expect.fail('the operation succeeded'),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(SinkError);
  return inspect(error, { depth: 20, showHidden: true });
}

describe('S3Sink', () => {
  runSinkContract(async () => {
    const sink = s3Sink();
    return { sink, cleanup: async () => sink.destroy() };
  });

  it('keeps each prefix apart in one bucket, and says where it is', async () => {
    const alice = s3Sink({ prefix: 'tenants/alice' });
    const bob = s3Sink({ prefix: '/tenants/bob/' });
    const root = s3Sink({ prefix: '' });
    try {
      await alice.put('state', Buffer.from('a'));
      await bob.put('state', Buffer.from('b'));
      expect((await alice.get('state')).toString()).toBe('a');
      expect(await bob.list('')).toEqual(['state']);
      expect(await root.list('tenants/')).toEqual(['tenants/alice/state', 'tenants/bob/state']);
      expect(alice.description).toBe(`s3://${server.bucket}/tenants/alice at ${server.endpoint}`);
      expect(root.description).toBe(`s3://${server.bucket} at ${server.endpoint}`);
      expect(() => s3Sink({ prefix: 'tenants/..' })).toThrow(/invalid S3 prefix "tenants\/\.\."/);
    } finally {
      for (const sink of [alice, bob, root]) sink.destroy();
    }
  });

  it('lists page by page and deletes batch by batch', async () => {
    const sink = s3Sink({ pageSize: 2 });
    try {
      const keys = ['k/1', 'k/2', 'k/3', 'k/4', 'k/5'];
      await Promise.all(keys.map((key) => sink.put(key, Buffer.from(key))));
      expect(await sink.list('k/')).toEqual(keys);
      await sink.delete(keys);
      expect(await sink.list('')).toEqual([]);
    } finally {
      sink.destroy();
    }
  });

  /** A sink that gives up quickly: one attempt, short timeouts. */
  function impatientSink(endpoint: string): S3Sink {
    return s3Sink({ endpoint, maxAttempts: 1, connectionTimeoutMs: 1_000, socketTimeoutMs: 500 });
  }

  it('fails with a SinkError when the server is gone', async () => {
    const gone = await startS3Server();
    const sink = impatientSink(gone.endpoint);
    try {
      await sink.put('x', Buffer.from('x'));
      await gone.stop();
      const operations = [() => sink.get('x'), () => sink.list('x'), () => sink.put('x', Buffer.from('y'))];
      for (const operation of operations) {
        expect(await failure(operation())).toMatch(/SinkError: s3 \w+ x in s3:\/\/.* failed: ECONN/);
      }
      expect(await failure(sink.list(''))).toMatch(/SinkError: s3 list {2}in s3:\/\/.* failed: ECONN/);
    } finally {
      sink.destroy();
      await gone.stop();
    }
  });

  it('fails with a SinkError, not a hang, when the server never answers', async () => {
    // Accepts connections and reads requests, and never answers one.
    const silent = createServer(() => {});
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const sink = impatientSink(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    try {
      expect(await failure(sink.get('x'))).toMatch(/SinkError: s3 get x in s3:\/\/.* failed: /);
    } finally {
      sink.destroy();
      silent.closeAllConnections();
      await new Promise((done) => silent.close(done));
    }
  });

  it('reports a missing bucket as a SinkError, not as a missing object', async () => {
    const sink = s3Sink({ bucket: 'no-such-bucket' });
    try {
      expect(await failure(sink.get('x'))).toContain('NoSuchBucket');
    } finally {
      sink.destroy();
    }
  });

  describe('credentials', () => {
    const env = {
      CANARY_KEY_ID: 'AKIACANARY7Q2W9E4R1T',
      CANARY_SECRET: 'canary-secret/Zx8+Vb3Nm5Lk7Jh9Gf1Dd',
      CANARY_TOKEN: 'canary-session-token-Pq4Rs6Tu8Vw0',
    };
    const spec = {
      type: 's3' as const,
      bucket: 'boilerhouse-test',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: {
        accessKeyId: { env: 'CANARY_KEY_ID' },
        secretAccessKey: { env: 'CANARY_SECRET' },
        sessionToken: { env: 'CANARY_TOKEN' },
      },
    };
    const secrets = Object.values(env);

    it('never shows a credential value in an error or the description', async () => {
      const refusing = openSink(
        { ...spec, endpoint: server.endpoint },
        { dataDir: '/unused', env },
      ) as S3Sink;
      const unreachable = openSink(
        { ...spec, endpoint: `http://${env.CANARY_KEY_ID}:${env.CANARY_TOKEN}@127.0.0.1:9` },
        { dataDir: '/unused', env },
      ) as S3Sink;
      try {
        for (const sink of [refusing, unreachable]) {
          const shown = [sink.description];
          // s3rver refuses the unknown key id, and sends it back in its error; port 9 refuses to connect.
          shown.push(await failure(sink.put('k', Buffer.from('x'))));
          shown.push(await failure(sink.get('k')));
          shown.push(await failure(sink.list('')));
          shown.push(await failure(sink.delete(['k'])));
          for (const text of shown) for (const secret of secrets) expect(text).not.toContain(secret);
        }
        expect(await failure(refusing.get('k'))).toContain('InvalidAccessKeyId');
      } finally {
        refusing.destroy();
        unreachable.destroy();
      }
    });

    it('names a missing environment variable, and no value', () => {
      const { CANARY_TOKEN: _, ...withoutToken } = env;
      expect(() => openSink(spec, { dataDir: '/unused', env: withoutToken })).toThrow(
        new SinkError("the S3 sink's credentials name environment variable CANARY_TOKEN, which is not set"),
      );
      try {
        openSink(spec, { dataDir: '/unused', env: { ...env, CANARY_SECRET: '' } });
        expect.fail('opened without a secret');
      } catch (error) {
        const shown = inspect(error, { depth: 20 });
        expect(shown).toContain('CANARY_SECRET');
        for (const secret of secrets) expect(shown).not.toContain(secret);
      }
    });
  });
});
