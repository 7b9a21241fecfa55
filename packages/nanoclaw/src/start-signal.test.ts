/** The start message of a NanoClaw booted ahead of its claim, read from a real FIFO. */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { awaitStart, parseStartMessage, StartRefusedError } from './start-signal.ts';
import { tempHome } from './testing/temp-home.ts';

let home: Awaited<ReturnType<typeof tempHome>> | undefined;
afterEach(async () => {
  await home?.remove();
  home = undefined;
});

describe('the start message', () => {
  it('waits for its writer, then hands over the environment it carries', async () => {
    home = await tempHome();
    const fifo = join(home.path, 'start');
    execFileSync('mkfifo', [fifo]);
    let started = false;
    const waiting = awaitStart(fifo).then((env) => {
      started = true;
      return env;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toBe(false);
    await writeFile(fifo, 'gBOILERHOUSE_TENANT=alice\0BOILERHOUSE_INSTANCE=nanoclaw-1\0A=b=c\0');
    expect(await waiting).toEqual({
      BOILERHOUSE_TENANT: 'alice',
      BOILERHOUSE_INSTANCE: 'nanoclaw-1',
      A: 'b=c',
    });
  });

  it('is refused when the FIFO closes without the go byte (Boilerhouse gave up on the instance)', () => {
    expect(() => parseStartMessage(Buffer.alloc(0))).toThrow(StartRefusedError);
    expect(() => parseStartMessage(Buffer.from('xA=b\0'))).toThrow(StartRefusedError);
    expect(parseStartMessage(Buffer.from('g'))).toEqual({});
  });
});
