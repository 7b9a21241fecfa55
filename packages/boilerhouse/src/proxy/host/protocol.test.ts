/**
 * The control protocol: framing, what each side accepts, and a real host refusing bad frames with a clear
 * error (no engine call is made: none of these requests reaches one).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '../../log.ts';
import { EngineClient } from '../../runtime/engine-client.ts';
import { HostConnection } from './connection.ts';
import { FrameDecoder } from './frames.ts';
import { SocketHost } from './host.ts';
import { PROTOCOL_VERSION, parseDaemonMessage, parseHostMessage } from './protocol.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

test('frames: split across chunks, several in one chunk', () => {
  const decoder = new FrameDecoder();
  expect(decoder.push(Buffer.from('{"a":'))).toEqual([]);
  expect(decoder.push(Buffer.from('1}\n{"b":2}\n{"c"'))).toEqual([{ a: 1 }, { b: 2 }]);
  expect(decoder.push(Buffer.from(':3}\n'))).toEqual([{ c: 3 }]);
});

test('frames: a line that is not JSON is refused without quoting it', () => {
  expect(() => new FrameDecoder().push(Buffer.from('sk-secret-value\n'))).toThrow(
    /^a frame of 15 bytes is not JSON$/,
  );
  expect(() => new FrameDecoder().push(Buffer.from('\n'))).toThrow('an empty frame');
});

test('frames: a frame over the limit is refused before its end comes', () => {
  const decoder = new FrameDecoder(16);
  expect(() => decoder.push(Buffer.from('{"a":"0123456789abcdef'))).toThrow('a frame is over 16 bytes');
});

test('messages: what the daemon may send', () => {
  expect(parseDaemonMessage({ type: 'hello', version: 1, daemonId: 'd' })).toEqual({
    type: 'hello',
    version: 1,
    daemonId: 'd',
  });
  expect(() => parseDaemonMessage([1])).toThrow('a frame must be a JSON object');
  expect(() => parseDaemonMessage({ type: 'hello', daemonId: 'd' })).toThrow(
    'hello without a numeric "version"',
  );
  expect(() => parseDaemonMessage({ type: 'exec', id: 1 })).toThrow(
    'unknown request type "exec"; known: hello, open, close, removeChildren, removeOrphans, secrets, shutdown, gateway, gatewayTable, wakeDone',
  );
  expect(() => parseDaemonMessage({ type: 'close', instanceId: 'x' })).toThrow(
    'request close without an integer "id"',
  );
  expect(() => parseDaemonMessage({ type: 'close', id: 3 })).toThrow('request close without "instanceId"');
});

test('messages: what the host may send', () => {
  expect(parseHostMessage({ type: 'reply', id: 1, ok: true, result: 2 })).toMatchObject({ id: 1 });
  expect(() => parseHostMessage({ id: 1, ok: true })).toThrow('unknown message from the socket host');
  expect(() => parseHostMessage({ type: 'hello', version: 1 })).toThrow(
    'host hello without "version" and "open"',
  );
});

async function startHost(idleMs = 60_000): Promise<{ host: SocketHost; control: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bh-host-'));
  const control = join(dir, 'socket-host.sock');
  const engine = new EngineClient(process.env.DOCKER_HOST);
  const host = new SocketHost({ controlPath: control, engine, log: silentLogger, idleMs, checkMs: 20 });
  await host.listen();
  cleanups.push(async () => {
    await host.shutdown('test over');
    engine.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { host, control };
}

/** Writes `bytes` to the control socket; every line that comes back until it closes. */
function exchange(control: string, bytes: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(control);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () =>
      resolve(
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      ),
    );
    socket.write(bytes);
  });
}

test('the host: its control socket is root only; a bad frame is answered with an error and a hang-up', async () => {
  const { control } = await startHost();
  expect((await stat(control)).mode & 0o777).toBe(0o600);
  expect(await exchange(control, 'not json\n')).toEqual([
    { type: 'error', error: 'a frame of 8 bytes is not JSON' },
  ]);
  expect(await exchange(control, '{"id":1,"type":"shutdown"}\n')).toEqual([
    { type: 'error', error: 'the first frame must be a hello' },
  ]);
  const hello = JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION, daemonId: 'd' });
  expect(await exchange(control, `${hello}\n{"id":1,"type":"nope"}\n`)).toEqual([
    { type: 'hello', version: PROTOCOL_VERSION, pid: process.pid, open: [] },
    {
      type: 'error',
      error:
        'unknown request type "nope"; known: hello, open, close, removeChildren, removeOrphans, secrets, shutdown, gateway, gatewayTable, wakeDone',
    },
  ]);
});

test('the host: a daemon of another version may only ask it to shut down', async () => {
  const { host, control } = await startHost();
  const hello = JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION + 1, daemonId: 'd' });
  const refused = await exchange(control, `${hello}\n{"id":1,"type":"close","instanceId":"x"}\n`);
  expect(refused.at(-1)).toEqual({
    type: 'error',
    error: 'request close from a daemon of another protocol version',
  });
  const connection = await HostConnection.open(control, 'd');
  expect(connection.sameVersion).toBe(true);
  await expect(connection.request('removeChildren', { instanceId: 'x' })).rejects.toThrow(
    'no socket of x is served',
  );
  expect(await connection.request('shutdown', {})).toBeNull();
  await host.stopped;
  await connection.closed;
});

test('the host: it ends by itself once it serves nothing and no daemon is connected', async () => {
  const { host, control } = await startHost(50);
  const connection = await HostConnection.open(control, 'd');
  await new Promise((resolve) => setTimeout(resolve, 150));
  let stopped = false;
  void host.stopped.then(() => {
    stopped = true;
  });
  expect(stopped).toBe(false);
  await connection.end();
  await host.stopped;
});
