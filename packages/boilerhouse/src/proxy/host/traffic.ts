/**
 * What an agent does with its filtered socket, held up while a daemon restarts (tests and bench): a loop
 * of `docker ps` (GET /containers/json, each on a new connection, as a fresh client does) and an attach
 * stream on a child that prints a line every 100 ms. Every request's timing and outcome is kept, and so is
 * the longest silence of the stream and whether it ended.
 */

import { request } from 'node:http';
import { connect } from 'node:net';
import { callProxy } from '../testing.ts';

export interface Sample {
  /** When the request started (ms, performance.now()). */
  at: number;
  ms: number;
  error?: string;
}

export interface TrafficReport {
  samples: Sample[];
  failures: Sample[];
  /** The longest gap between two chunks of the stream (ms). */
  longestStreamGap: number;
  streamBytes: number;
  /** When each chunk of the stream came (ms, performance.now()). */
  streamChunks: number[];
  /** Why the stream ended early, if it did. */
  streamEnded?: string;
}

export interface Traffic {
  stop(): Promise<TrafficReport>;
}

/** Creates and starts `name` through the socket: a child that prints a line every 100 ms. */
export async function startTicker(socketPath: string, image: string, name: string): Promise<void> {
  const created = await callProxy(socketPath, 'POST', `/containers/create?name=${name}`, {
    Image: image,
    Cmd: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'],
  });
  if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${created.body.message}`);
  const started = await callProxy(socketPath, 'POST', `/containers/${name}/start`);
  if (started.status !== 204) throw new Error(`start ${name}: ${started.status} ${started.body.message}`);
}

export function startTraffic(socketPath: string, ticker: string): Traffic {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) samples.push(await ps(socketPath));
  })();
  const stream = attach(socketPath, ticker);
  return {
    async stop() {
      running = false;
      await loop;
      const streamed = stream.stop();
      return {
        samples,
        failures: samples.filter((sample) => sample.error !== undefined),
        ...streamed,
      };
    },
  };
}

function ps(socketPath: string): Promise<Sample> {
  const at = performance.now();
  return new Promise((resolve) => {
    const done = (error?: string) =>
      resolve({ at, ms: performance.now() - at, ...(error === undefined ? {} : { error }) });
    const req = request(
      { socketPath, method: 'GET', path: '/v1.41/containers/json', agent: false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
        res.on('error', (error) => done(error.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => done(error.message));
    req.end();
  });
}

function attach(socketPath: string, name: string): { stop(): Omit<TrafficReport, 'samples' | 'failures'> } {
  const socket = connect(socketPath);
  let last = performance.now();
  let longest = 0;
  let bytes = 0;
  const chunks: number[] = [];
  let ended: string | undefined;
  socket.on('data', (chunk) => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    bytes += chunk.length;
    chunks.push(now);
  });
  socket.on('error', (error) => {
    ended ??= error.message;
  });
  socket.on('close', () => {
    ended ??= 'the stream closed';
  });
  socket.write(
    `POST /containers/${name}/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
  );
  return {
    stop() {
      const report = {
        longestStreamGap: Math.max(longest, performance.now() - last),
        streamBytes: bytes,
        streamChunks: chunks,
        ...(ended === undefined ? {} : { streamEnded: ended }),
      };
      socket.destroy();
      return report;
    },
  };
}
