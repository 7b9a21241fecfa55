/**
 * The echo workload: a tiny HTTP server for demos, tests and benchmarks.
 *
 *   GET /health    200 "ok"
 *   GET /counter   increments a counter kept in $STATE_DIR/counter and returns it as plain text, so a
 *                  tenant's state can be seen moving between claims
 *   GET /sse       server-sent events: `data: <n>` every ?every= ms (default 100) until the client goes
 *   POST /upload   reads the body as it streams and answers its size in bytes (any size, never held whole)
 *   WebSocket      an upgrade on any path echoes each text or binary message back
 *   anything else  echoes the request back as JSON (method, path, headers, body)
 */
// CommonJS on purpose: Node boots a CommonJS server in about half the time of an ES module (~50 ms
// against ~90 ms here), and the echo server's boot is most of a warm claim.
const { mkdir, readFile, rename, writeFile } =
  require('node:fs/promises') as typeof import('node:fs/promises');
const { createHash } = require('node:crypto') as typeof import('node:crypto');
const { createServer } = require('node:http') as typeof import('node:http');
const { join } = require('node:path') as typeof import('node:path');

type IncomingMessage = import('node:http').IncomingMessage;

const port = Number(process.env.PORT ?? 8080);
const stateDir = process.env.STATE_DIR ?? '/data';
const counterFile = join(stateDir, 'counter');
const maxBodyBytes = 1024 * 1024;

// One increment at a time, so concurrent requests never read the same value.
let counterQueue: Promise<unknown> = Promise.resolve();

function incrementCounter(): Promise<number> {
  const next = counterQueue.then(async () => {
    const current = await readFile(counterFile, 'utf8').then(
      (text) => Number.parseInt(text, 10) || 0,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return 0;
        throw error;
      },
    );
    const value = current + 1;
    await mkdir(stateDir, { recursive: true });
    // Write then rename, so a crash mid-write never leaves a torn counter behind.
    const temporary = `${counterFile}.${process.pid}.tmp`;
    await writeFile(temporary, `${value}\n`);
    await rename(temporary, counterFile);
    return value;
  });
  counterQueue = next.catch(() => undefined);
  return next;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new Error('request body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const server = createServer(async (request, response) => {
  const path = new URL(request.url ?? '/', 'http://echo').pathname;
  try {
    if (request.method === 'GET' && path === '/health') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (request.method === 'GET' && path === '/counter') {
      const value = await incrementCounter();
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`${value}\n`);
    } else if (request.method === 'GET' && path === '/sse') {
      const every = Number(new URL(request.url ?? '/', 'http://echo').searchParams.get('every') ?? 100);
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      response.flushHeaders();
      let n = 0;
      const timer = setInterval(() => response.write(`data: ${n++}\n\n`), Math.max(10, every));
      response.on('close', () => clearInterval(timer));
    } else if (request.method === 'POST' && path === '/upload') {
      let bytes = 0;
      for await (const chunk of request) bytes += (chunk as Buffer).length;
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`${bytes}\n`);
    } else {
      const body = await readBody(request);
      const echo = { method: request.method, path: request.url, headers: request.headers, body };
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(echo)}\n`);
    }
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`);
  }
});

// WebSocket echo (RFC 6455), enough for tests through a proxy: masked frames in, unmasked frames back.
server.on('upgrade', (request, socket) => {
  const key = request.headers['sec-websocket-key'];
  if (request.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
  );
  let pending = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const opcode = (pending[0] as number) & 0x0f;
      const masked = ((pending[1] as number) & 0x80) !== 0;
      let length = (pending[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      const maskAt = offset;
      if (masked) offset += 4;
      if (pending.length < offset + length) return;
      const payload = Buffer.from(pending.subarray(offset, offset + length));
      if (masked) {
        for (let i = 0; i < payload.length; i++) {
          payload[i] = (payload[i] as number) ^ (pending[maskAt + (i % 4)] as number);
        }
      }
      pending = pending.subarray(offset + length);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      const header =
        payload.length < 126
          ? Buffer.from([0x80 | opcode, payload.length])
          : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
      if (opcode === 0x1 || opcode === 0x2) socket.write(Buffer.concat([header, payload]));
    }
  });
});

server.listen(port, () => console.log(`echo listening on :${port}, state in ${stateDir}`));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
