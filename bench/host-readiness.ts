/**
 * Readiness as a client sees it, measured the same way for a plain `docker run` and for a claimed
 * instance: the first answer of the workload's port from the host (through the published port), then
 * the workload's health test by `docker exec`, which works on any running container.
 */
import { request } from 'node:http';
import type { HealthcheckSpec } from '@boilerhouse/spec';
import { checkHealth, execRunner, readinessDeadlineMs } from '../packages/boilerhouse/src/pool/readiness.ts';
import type { ContainerRuntime } from '../packages/boilerhouse/src/runtime/runtime.ts';

/** Between attempts: short, so the figure is not the polling interval's. */
const RETRY_MS = 1;

/**
 * Waits for the first 200 answer to GET `path` at `base` (`http://127.0.0.1:<published port>`), one
 * new connection per attempt. Before the workload listens, the engine's published port accepts and
 * then drops the connection, so only an HTTP answer says the workload is up.
 */
export async function firstAnswer(base: string, path: string, deadlineMs = 30_000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  let last = '';
  while (performance.now() < deadline) {
    const status = await get(`${base}${path}`).catch((error: Error) => {
      last = error.message;
      return undefined;
    });
    if (status === 200) return;
    if (status !== undefined) last = `answered ${status}`;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  throw new Error(`${base}${path} gave no 200 answer in ${deadlineMs} ms: ${last}`);
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** Runs the workload's health test by `docker exec` until it passes, within the workload's deadline. */
export async function healthByExec(
  runtime: ContainerRuntime,
  containerId: string,
  healthcheck: HealthcheckSpec,
): Promise<void> {
  const run = execRunner(runtime, containerId);
  const deadline = performance.now() + readinessDeadlineMs(healthcheck);
  let last = '';
  while (performance.now() < deadline) {
    const { healthy, output } = await checkHealth(run, healthcheck);
    if (healthy) return;
    last = output;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  throw new Error(`the health test by docker exec did not pass: ${last}`);
}
