/** The engine client against the real Docker engine: answers, refusals and an engine that is not there. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demux, Engine } from './engine.ts';
import { isEngineUnreachable } from './engine-wait.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('Engine', () => {
  it('says what the engine refused, with its status', async () => {
    const engine = new Engine(undefined);
    try {
      await expect(engine.container('nanoclaw-no-such-container').inspect()).rejects.toMatchObject({
        statusCode: 404,
        message: expect.stringContaining('nanoclaw-no-such-container'),
      });
    } finally {
      engine.close();
    }
  });

  it('leaves a socket that is not there as Node reports it, so that callers wait for it', async () => {
    const engine = new Engine('unix:///nonexistent/docker.sock');
    const error = await engine.listContainers(['nanoclaw.host=none']).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ENOENT' });
    expect(isEngineUnreachable(error)).toBe(true);
  });

  it('splits a multiplexed stream into stdout and stderr, whatever the chunks cut', () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    demux(stream, (stderr, chunk) => seen.push(`${stderr ? 'err' : 'out'}:${chunk}`));
    const bytes = Buffer.concat([frame(1, 'hello'), frame(2, 'warning'), frame(1, '')]);
    for (let at = 0; at < bytes.length; at += 3) stream.write(bytes.subarray(at, at + 3));
    expect(seen).toEqual(['out:hello', 'err:warning', 'out:']);
  });
});
