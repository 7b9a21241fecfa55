import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from './local.ts';
import { openSink } from './open.ts';
import { S3Sink } from './s3.ts';

describe('openSink', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'boilerhouse-open-sink-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps a local sink in <dataDir>/sinks by default', () => {
    const sink = openSink({ type: 'local' }, { dataDir, env: {} });
    expect(sink).toBeInstanceOf(LocalSink);
    expect(sink.description).toBe(`local:${dataDir}/sinks`);
  });

  it('takes a local path relative to the data directory, inside its sinks folder', () => {
    expect(openSink({ type: 'local', path: 'sinks/x' }, { dataDir, env: {} }).description).toBe(
      `local:${dataDir}/sinks/x`,
    );
  });

  it('refuses a local path anywhere else: beside secret.key and the database, or elsewhere on the host', () => {
    for (const path of [
      '.',
      'secret.key',
      'instances',
      'sinks/../instances',
      'sinksx',
      '/etc',
      `${dataDir}`,
    ]) {
      expect(() => openSink({ type: 'local', path }, { dataDir, env: {} }), path).toThrow(
        `a local sink's path must be inside the data directory's sinks folder (sinks/...); "${path}" is not`,
      );
    }
  });

  it('puts a local sink with a prefix in a folder of that name', async () => {
    const sink = openSink({ type: 'local' }, { dataDir, env: {}, prefix: 'tenants/alice/' });
    expect(sink.description).toBe(`local:${dataDir}/sinks/tenants/alice`);
    await sink.put('k', Buffer.from('x'));
    const whole = openSink({ type: 'local' }, { dataDir, env: {} });
    expect(await whole.list('')).toEqual(['tenants/alice/k']);
    expect(() => openSink({ type: 'local' }, { dataDir, env: {}, prefix: '../bob' })).toThrow(
      /invalid sink prefix "\.\.\/bob"/,
    );
  });

  it('opens an S3 sink under the given prefix, with the credentials the environment holds', () => {
    const sink = openSink(
      {
        type: 's3',
        bucket: 'states',
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
        credentials: { accessKeyId: { env: 'KEY_ID' }, secretAccessKey: { env: 'SECRET' } },
      },
      { dataDir, env: { KEY_ID: 'id', SECRET: 'secret' }, prefix: 'tenants/alice' },
    );
    expect(sink).toBeInstanceOf(S3Sink);
    expect(sink.description).toBe('s3://states/tenants/alice at http://127.0.0.1:9000');
    (sink as S3Sink).destroy();
  });
});
