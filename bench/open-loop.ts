/**
 * Open-loop HTTP load from a worker thread, so that its timers never wait on the server's event loop (the
 * daemon runs in the main thread). Request i of a stream is due at start + i / rate whatever became of the
 * ones before it, and its latency runs from when it was due to its last byte: a server that stalls shows as
 * latency, not as fewer requests (no coordinated omission).
 */
import { Agent, request } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface LoadStream {
  name: string;
  /** Requested in turn, round robin; `route` is what the figures are grouped by. */
  targets: { path: string; route: string }[];
  perSecond: number;
}

export interface LoadPlan {
  /** e.g. http://127.0.0.1:7070 */
  base: string;
  headers: Record<string, string>;
  seconds: number;
  streams: LoadStream[];
}

export interface Sample {
  stream: string;
  route: string;
  /** From when the request was due to its last byte. */
  ms: number;
  /** How late the request left, against when it was due (the load generator's own lag). */
  lateMs: number;
  status: number;
  bytes: number;
}

/** Runs the plan in a worker thread; resolves with one sample per request once every answer is in. */
export function runLoad(plan: LoadPlan): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { openLoop: plan } });
    worker.once('message', (samples: Sample[]) => {
      resolve(samples);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function run(plan: LoadPlan): Promise<Sample[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const send = (stream: string, target: LoadStream['targets'][number], due: number) => {
    const left = performance.now();
    const done = new Promise<void>((resolve) => {
      const record = (status: number, bytes: number) => {
        samples.push({
          stream,
          route: target.route,
          ms: performance.now() - due,
          lateMs: left - due,
          status,
          bytes,
        });
        resolve();
      };
      const req = request(`${plan.base}${target.path}`, { agent, headers: plan.headers }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => record(res.statusCode ?? 0, bytes));
        res.on('error', () => record(0, bytes));
      });
      req.on('error', () => record(0, 0));
      req.end();
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const start = performance.now() + 20;
  await Promise.all(
    plan.streams.map(
      (stream) =>
        new Promise<void>((finished) => {
          const interval = 1000 / stream.perSecond;
          const total = Math.floor(plan.seconds * stream.perSecond);
          let next = 0;
          const pump = () => {
            const now = performance.now();
            for (; next < total && start + next * interval <= now; next++) {
              const target = stream.targets[next % stream.targets.length];
              if (target !== undefined) send(stream.name, target, start + next * interval);
            }
            if (next < total) setTimeout(pump, Math.max(0, start + next * interval - performance.now()));
            else finished();
          };
          setTimeout(pump, Math.max(0, start - performance.now()));
        }),
    ),
  );
  while (pending.size > 0) await Promise.all([...pending]);
  agent.destroy();
  return samples;
}

if (!isMainThread && (workerData as { openLoop?: LoadPlan } | null)?.openLoop !== undefined) {
  const samples = await run((workerData as { openLoop: LoadPlan }).openLoop);
  parentPort?.postMessage(samples);
}
