/** The sink check an apply runs: against a real s3rver on loopback, a port nothing listens on, and one that never answers. */
import { createServer, type Server, type Socket } from 'node:net';
import type { S3Sink as S3SinkSpec } from '@boilerhouse/spec';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { checkSink } from './check.ts';
import { S3RVER_CREDENTIALS, type S3Server, startS3Server } from './s3-server.ts';

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server?.stop());

const ENV = { KEY: S3RVER_CREDENTIALS.accessKeyId, SECRET: S3RVER_CREDENTIALS.secretAccessKey };

function spec(changes: Partial<S3SinkSpec> = {}): S3SinkSpec {
  return {
    type: 's3',
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    prefix: 'tenants/${tenantId}/',
    credentials: { accessKeyId: { env: 'KEY' }, secretAccessKey: { env: 'SECRET' } },
    ...changes,
  };
}

/** A loopback port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('a sink that lists with its credentials passes; a local sink has nothing to try', async () => {
  expect(await checkSink(spec(), ENV)).toBeUndefined();
  expect(await checkSink({ type: 'local' }, {})).toBeUndefined();
});

test('refused credentials are said as such, naming the sink and bucket, and the secret never shows', async () => {
  const problem = await checkSink(spec(), { KEY: 'WRONGKEYID', SECRET: 'wrong-secret-value' });
  expect(problem).toMatchObject({
    sink: `s3://${server.bucket} at ${server.endpoint}`,
    bucket: server.bucket,
    failure: 'credentials',
  });
  expect(problem?.message).toMatch(
    new RegExp(
      `^the S3 sink s3://${server.bucket} at ${server.endpoint} refused the credentials \\(InvalidAccessKeyId: .*\\(HTTP 403\\)\\): check the variables sync.sink.credentials names`,
    ),
  );
  expect(JSON.stringify(problem)).not.toContain('WRONGKEYID');
  expect(JSON.stringify(problem)).not.toContain('wrong-secret-value');
});

test('a credential variable that is not set is named, without a value', async () => {
  expect(await checkSink(spec(), { KEY: 'S3RVER' })).toEqual({
    sink: `s3://${server.bucket}`,
    bucket: server.bucket,
    failure: 'credentials',
    message: `the S3 sink s3://${server.bucket} cannot be used: the S3 sink's credentials name environment variable SECRET, which is not set`,
  });
});

test('a bucket the server does not have is said as such', async () => {
  const problem = await checkSink(spec({ bucket: 'no-such-bucket' }), ENV);
  expect(problem).toMatchObject({ bucket: 'no-such-bucket', failure: 'no_bucket' });
  expect(problem?.message).toMatch(
    /^the S3 sink s3:\/\/no-such-bucket at .* has no bucket "no-such-bucket" \(NoSuchBucket: .*\): create it, or correct sync.sink.bucket$/,
  );
});

test('an endpoint nothing listens on is unreachable', async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const problem = await checkSink(spec({ endpoint }), ENV);
  expect(problem).toMatchObject({ sink: `s3://${server.bucket} at ${endpoint}`, failure: 'unreachable' });
  expect(problem?.message).toMatch(/cannot be reached \(ECONNREFUSED: .*\): check sync.sink.endpoint/);
});

test('an endpoint that takes the connection and never answers is given up on: unreachable', async () => {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const problem = await checkSink(spec({ endpoint }), ENV, 300);
    expect(problem).toMatchObject({ failure: 'unreachable' });
    expect(sockets.size).toBe(1);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
