/**
 * The daemon's side of the socket host: a host of another protocol version is asked to shut down and
 * replaced by one of this version, started detached, which stops again on teardown.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { silentLogger } from '../../log.ts';
import { HostClient } from './client.ts';
import { FrameDecoder } from './frames.ts';
import { hostPaths } from './paths.ts';
import { encodeFrame, PROTOCOL_VERSION } from './protocol.ts';
import { stopSocketHost } from './spawn.ts';

test('a host of another protocol version is shut down and replaced', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'bh-client-'));
  const paths = hostPaths(dataDir);
  const asked: string[] = [];
  // An older host: says hello with its version, and goes when asked to.
  const old = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      for (const message of decoder.push(chunk) as { type: string; id?: number }[]) {
        asked.push(message.type);
        if (message.type === 'hello')
          socket.write(encodeFrame({ type: 'hello', version: PROTOCOL_VERSION - 1, pid: 1, open: ['x'] }));
        if (message.type === 'shutdown') {
          socket.end(encodeFrame({ type: 'reply', id: message.id as number, ok: true, result: null }));
          old.close();
        }
      }
    });
  });
  await new Promise<void>((resolve) => old.listen(paths.control, resolve));
  const client = new HostClient({
    dataDir,
    daemonId: 'd',
    dockerHost: process.env.DOCKER_HOST || 'unix:///var/run/docker.sock',
    idleMs: 60_000,
    log: silentLogger,
    onDenied: () => undefined,
    onConnected: async () => undefined,
  });
  try {
    const connection = await client.connection();
    expect(asked).toEqual(['hello', 'shutdown']);
    expect(connection.sameVersion).toBe(true);
    expect(connection.hello).toMatchObject({ version: PROTOCOL_VERSION, open: [] });
    expect(Number(await readFile(paths.pid, 'utf8'))).toBe(connection.hello.pid);
    await client.close();
  } finally {
    expect(await stopSocketHost(dataDir)).toBe(true);
    await rm(dataDir, { recursive: true, force: true });
  }
});
