/**
 * A WebSocket through the gateway ends as a whole, whatever the instance does (gateway.test.ts's teardown
 * once waited past 120 s: the echo instance never closes its side after the caller's half-close, so the
 * gateway's socket stayed half-open and the socket host's shutdown waited on it for ever). The gateway in
 * process, in front of an instance that ignores half-closes.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { GatewayServer } from './server.ts';
import { gatewayInFrontOf } from './testing.ts';

let instance: Server;
/** The instance's ends of the WebSockets (upgraded sockets: its server's close would wait on them). */
const instanceSockets = new Set<Duplex>();
let gateway: GatewayServer;
let port: number;

beforeEach(async () => {
  // Answers the upgrade, then neither writes nor ends: a half-close from the gateway is never answered.
  instance = createServer();
  instance.on('upgrade', (_req, socket) => {
    instanceSockets.add(socket);
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.resume();
  });
  instance.listen(0, '127.0.0.1');
  await once(instance, 'listening');
  ({ gateway, port } = await gatewayInFrontOf(instance));
});

afterEach(async () => {
  await gateway.close();
  for (const socket of instanceSockets) socket.destroy();
  instanceSockets.clear();
  await new Promise((resolve) => instance.close(resolve));
});

/** A WebSocket upgrade through the gateway, resolved once the 101 came back. */
async function openWebSocket(): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `GET /open/ana/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const [head] = (await once(socket, 'data')) as [Buffer];
  expect(head.toString('utf8')).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

test('a caller that half-closes its WebSocket is closed by the gateway, though the instance never closes', async () => {
  const socket = await openWebSocket();
  const closed = once(socket, 'close');
  socket.resume();
  socket.end();
  await closed;
  expect(socket.destroyed).toBe(true);
});

test("the gateway's close ends open WebSockets instead of waiting on them", async () => {
  const socket = await openWebSocket();
  socket.resume();
  const closed = once(socket, 'close');
  await gateway.close();
  await closed;
  expect(socket.destroyed).toBe(true);
});
