/**
 * The echo workload: a tiny HTTP server for demos, tests and benchmarks.
 *
 *   GET /health    200 "ok"
 *   GET /counter   increments a counter kept in $STATE_DIR/counter and returns it as plain text, so a
 *                  tenant's state can be seen moving between claims
 *   anything else  echoes the request back as JSON (method, path, headers, body)
 */
// CommonJS on purpose: Node boots a CommonJS server in about half the time of an ES module (~50 ms
// against ~90 ms here), and the echo server's boot is most of a warm claim.
const { mkdir, readFile, rename, writeFile } =
  require('node:fs/promises') as typeof import('node:fs/promises');
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
    } else {
      const body = await readBody(request);
      const echo = { method: request.method, path: request.url, headers: request.headers, body };
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(echo)}\n`);
    }
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`);
  }
});

server.listen(port, () => console.log(`echo listening on :${port}, state in ${stateDir}`));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
