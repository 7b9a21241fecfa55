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

  it('takes a relative local path inside the data directory, an absolute one as it is', () => {
    expect(openSink({ type: 'local', path: 'state/x' }, { dataDir, env: {} }).description).toBe(
      `local:${dataDir}/state/x`,
    );
    expect(openSink({ type: 'local', path: '/srv/state' }, { dataDir, env: {} }).description).toBe(
      'local:/srv/state',
    );
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
