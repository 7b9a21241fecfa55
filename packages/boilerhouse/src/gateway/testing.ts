/**
 * Calls to a gateway for tests and benches: HTTP through node:http (Host header and raw targets as given),
 * a request written by hand on a socket (for what a client library would refuse to send), a WebSocket echo
 * and an SSE stream read to a number of events; and a gateway in process in front of a test's own server.
 */

import { createHash, randomBytes } from 'node:crypto';
import { type Agent, request, type Server } from 'node:http';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import { SseParser } from '@boilerhouse/kit/sse';
import { silentLogger } from '../log.ts';
import { GatewayServer } from './server.ts';

export interface GatewayAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  reusedSocket: boolean;
}

export function callGateway(
  port: number,
  path: string,
  options: {
    method?: string;
    host?: string;
    headers?: Record<string, string>;
    body?: Readable | string;
    agent?: Agent | false;
  } = {},
): Promise<GatewayAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body === undefined || typeof options.body === 'string') req.end(options.body);
    else options.body.pipe(req);
  });
}

/** Writes `head` (request line and headers, CRLF-separated, no final blank line) as is; the status answered. */
export function rawRequest(port: number, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.end(`${head}\r\nConnection: close\r\n\r\n`);
  });
}

/** Opens a WebSocket at `path`, sends `message`, and resolves with what comes back. */
export function webSocketEcho(
  port: number,
  path: string,
  message: string,
  headers: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.subarray(0, end).toString('utf8');
        if (!head.startsWith('HTTP/1.1 101') || !head.includes(expected)) {
          socket.destroy();
          reject(new Error(`no WebSocket: ${head.split('\r\n')[0]}`));
          return;
        }
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        const payload = Buffer.from(message);
        const mask = randomBytes(4);
        const masked = payload.map((byte, i) => byte ^ (mask[i % 4] as number));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      }
      if (buffer.length >= 2 && buffer.length >= 2 + ((buffer[1] as number) & 0x7f)) {
        const text = buffer.subarray(2, 2 + ((buffer[1] as number) & 0x7f)).toString('utf8');
        socket.destroy();
        resolve(text);
      }
    });
    const lines = Object.entries({
      host: `127.0.0.1:${port}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': key,
      'sec-websocket-version': '13',
      ...headers,
    }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`);
  });
}

/** Reads `count` events of an SSE stream, then hangs up; resolves with their data lines. */
export function readEvents(
  port: number,
  path: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`SSE answered ${res.statusCode}`));
      const parser = new SseParser();
      const events: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        events.push(...parser.push(text).map((message) => message.data));
        if (events.length >= count) {
          req.destroy();
          resolve(events.slice(0, count));
        }
      });
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

/** Opens an SSE stream and keeps it open: resolves once its first event came, with a function that hangs up. */
export function holdEvents(port: number, path: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`SSE answered ${res.statusCode}`));
      res.once('data', () => resolve(() => req.destroy()));
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

/**
 * A gateway in this process in front of one instance (an HTTP server of the test's own), for tenant
 * `ana` of workload `open` with `auth: none`: `/open/ana/...` reaches it. For tests of the gateway's
 * forwarding alone, without a daemon.
 */
export async function gatewayInFrontOf(instance: Server): Promise<{ gateway: GatewayServer; port: number }> {
  const gateway = new GatewayServer({ log: silentLogger, ask: () => undefined });
  const { port } = await gateway.listen({ host: '127.0.0.1', port: 0, domain: null });
  gateway.table.apply({
    workloads: [{ id: 'open', auth: 'none', wakeTimeoutMs: 30_000 }],
    routes: {
      reset: true,
      set: [
        {
          workload: 'open',
          tenant: 'ana',
          instanceId: 'instance-1',
          address: '127.0.0.1',
          port: (instance.address() as { port: number }).port,
        },
      ],
      remove: [],
    },
  });
  return { gateway, port };
}
