/**
 * `events --follow` across a dropped connection, against a small stand-in server that drops the stream
 * after one event (dropping a real daemon's connection on cue is not possible from outside).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor } from '../testing/harness.ts';
import { runCli } from './main.ts';

const event = (id: number, type: string) => ({
  id,
  at: '2025-01-01T12:00:00.000Z',
  type,
  workload: 'echo',
  tenant: 'alice',
  instance: 'echo-1',
  message: `event ${id}`,
  data: null,
});

const streamRequests: Array<string | undefined> = [];
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  if (request.url?.startsWith('/api/v1/events?')) {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ events: [event(5, 'instance.ready')] }));
    return;
  }
  streamRequests.push(request.headers['last-event-id'] as string | undefined);
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  if (streamRequests.length === 1) {
    // Event 6, then the connection drops mid-stream.
    response.write(`id: 6\ndata: ${JSON.stringify(event(6, 'instance.claimed'))}\n\n`);
    setTimeout(() => response.socket?.destroy(), 50);
  } else {
    // A replay after Last-Event-ID may repeat what was seen: the client skips it.
    response.write(`: keep-alive\n\nid: 6\ndata: ${JSON.stringify(event(6, 'instance.claimed'))}\n\n`);
    response.write(`id: 7\ndata: ${JSON.stringify(event(7, 'instance.released'))}\n\n`);
  }
});

let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('--follow resumes after the last event it printed, printing each event once', async () => {
  let out = '';
  let err = '';
  const stop = new AbortController();
  const done = runCli(['events', '--follow', '--json'], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    env: { BOILERHOUSE_URL: url, BOILERHOUSE_TOKEN: 'x' },
    prog: 'bh',
    signal: stop.signal,
  });
  await waitFor(() => out.includes('"id":7'), 10_000, 'event 7');
  stop.abort();
  expect(await done).toBe(0);
  expect(
    out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).id),
  ).toEqual([5, 6, 7]);
  expect(streamRequests).toEqual(['5', '6']);
  expect(err).toMatch(
    /^bh: events: connection lost \(the connection was cut\); reconnecting\nbh: events: reconnected\n$/,
  );
});
