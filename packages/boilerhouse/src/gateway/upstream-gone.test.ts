/**
 * An instance that goes away in the middle of an answer (its container killed, or released and removed)
 * ends the caller's answer too: a stream through the gateway (a chat page's SSE) then reconnects instead
 * of waiting on a connection nothing will write to again. The gateway in process, in front of an instance
 * that starts a stream and then drops its connection, cleanly or with a reset.
 */
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { GatewayServer } from './server.ts';
import { gatewayInFrontOf } from './testing.ts';

let instance: Server;
let gateway: GatewayServer;
let port: number;
/** How the instance drops the stream it started: FIN or RST. */
let drop: (socket: Socket) => void;

beforeEach(async () => {
  instance = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    setImmediate(() => drop(res.socket as Socket));
  });
  instance.listen(0, '127.0.0.1');
  await once(instance, 'listening');
  ({ gateway, port } = await gatewayInFrontOf(instance));
});

afterEach(async () => {
  await gateway.close();
  instance.closeAllConnections();
  await new Promise((resolve) => instance.close(resolve));
});

/** Opens the stream through the gateway; resolves once the caller's answer has ended, however. */
async function streamEnds(): Promise<{ received: string }> {
  const answer = request({ host: '127.0.0.1', port, path: '/open/ana/stream' });
  answer.end();
  const [res] = (await once(answer, 'response')) as [import('node:http').IncomingMessage];
  let received = '';
  res.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
  });
  // Ended early, it may end with an error ("aborted"): either way, it ends.
  await new Promise<void>((resolve) => {
    res.once('close', resolve);
    res.once('error', () => resolve());
  });
  return { received };
}

test("an instance that closes its connection mid-stream ends the caller's stream", async () => {
  drop = (socket) => socket.end();
  expect((await streamEnds()).received).toContain('data: first');
});

test("an instance whose connection is reset mid-stream ends the caller's stream", async () => {
  drop = (socket) => socket.resetAndDestroy();
  expect((await streamEnds()).received).toContain('data: first');
});
