/**
 * Knowing when an instance's workload is up, without waiting for Docker's health-check interval: probe
 * its port from the host (cheap, sub-millisecond), then run the workload's health test at once and retry
 * with a short back-off, within `start_period + timeout x retries`.
 */
import { connect } from 'node:net';
import { type Backoff, backoffDelay, sleep } from '@boilerhouse/kit/backoff';
import { formatDuration, type HealthcheckSpec, type HealthTest } from '@boilerhouse/spec';
import type { ContainerRuntime, ExecResult } from '../runtime/runtime.ts';
import { AgentUnavailableError, runViaAgent } from './health-agent.ts';

/** How long to wait for a port when the workload has no health check. */
const PORT_ONLY_DEADLINE_MS = 30_000;
/**
 * Between runs of the health test, and between probes of the port (bounded by the readiness deadline).
 * No jitter: each polls its own container, and a claim waits on every millisecond of it.
 */
const HEALTH_POLL: Backoff = { firstMs: 5, longestMs: 250, jitter: 0 };
const PORT_POLL: Backoff = { firstMs: 1, longestMs: 20, jitter: 0 };

export class NotReadyError extends Error {}

export interface ReadinessTarget {
  containerId: string;
  /** The container's address, when its ports can be probed directly. */
  address: string | null;
  /** Container ports the workload serves. */
  ports: number[];
}

/** Runs the health test in an instance; rejects when it could not be run at all. */
export type HealthRunner = (argv: string[], timeoutMs: number) => Promise<ExecResult>;

/** Through `docker exec`: works for any running container. */
export function execRunner(runtime: ContainerRuntime, containerId: string): HealthRunner {
  return (argv, timeoutMs) => runtime.exec(containerId, argv, { timeoutMs });
}

/** Through the gate's health agent (a fork in the container), falling back to `docker exec`. */
export function agentRunner(runtime: ContainerRuntime, containerId: string, runDir: string): HealthRunner {
  const exec = execRunner(runtime, containerId);
  return async (argv, timeoutMs) => {
    try {
      return await runViaAgent(runDir, timeoutMs);
    } catch (error) {
      if (error instanceof AgentUnavailableError) return exec(argv, timeoutMs);
      throw error;
    }
  };
}

export function healthArgv(test: HealthTest): string[] {
  return test.kind === 'exec' ? test.argv : ['/bin/sh', '-c', test.command];
}

export function readinessDeadlineMs(healthcheck: HealthcheckSpec | undefined): number {
  if (healthcheck === undefined) return PORT_ONLY_DEADLINE_MS;
  return healthcheck.startPeriod + healthcheck.timeout * healthcheck.retries;
}

/** How long each readiness stage took, in ms. */
export interface ReadinessTimings {
  port: number;
  health: number;
}

/** Resolves once the instance is ready; rejects with NotReadyError (saying why) when the deadline passes. */
export async function waitUntilReady(
  runtime: ContainerRuntime,
  target: ReadinessTarget,
  healthcheck: HealthcheckSpec | undefined,
  run: HealthRunner = execRunner(runtime, target.containerId),
): Promise<ReadinessTimings> {
  const began = performance.now();
  const deadline = Date.now() + readinessDeadlineMs(healthcheck);
  const [port] = target.ports;
  if (port !== undefined && target.address !== null) await waitForPort(target.address, port, deadline);
  const portDone = performance.now();
  const timings = () => ({ port: portDone - began, health: performance.now() - portDone });
  if (healthcheck === undefined) return timings();
  const argv = healthArgv(healthcheck.test);
  let lastOutput = '';
  for (let tries = 1; ; tries++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const result = await run(argv, Math.min(healthcheck.timeout, remaining));
      if (result.exitCode === 0) return timings();
      lastOutput = result.output.trim() || `exit code ${result.exitCode}`;
    } catch (error) {
      const info = await runtime.inspect(target.containerId);
      if (info === undefined || info.status !== 'running') {
        throw new NotReadyError(
          `the container stopped (${info?.status ?? 'gone'}, exit code ${info?.exitCode ?? '?'})`,
        );
      }
      lastOutput = (error as Error).message;
    }
    await sleep(Math.min(backoffDelay(HEALTH_POLL, tries), healthcheck.startInterval));
  }
  throw new NotReadyError(
    `the health check did not pass in ${formatDuration(readinessDeadlineMs(healthcheck))}: ${lastOutput}`,
  );
}

/** Runs the health test once: for liveness checks of a running instance. */
export async function checkHealth(
  run: HealthRunner,
  healthcheck: HealthcheckSpec,
): Promise<{ healthy: boolean; output: string }> {
  try {
    const result = await run(healthArgv(healthcheck.test), healthcheck.timeout);
    return { healthy: result.exitCode === 0, output: result.output.trim() || `exit code ${result.exitCode}` };
  } catch (error) {
    return { healthy: false, output: (error as Error).message };
  }
}

async function waitForPort(address: string, port: number, deadline: number): Promise<void> {
  for (let tries = 1; ; tries++) {
    if (await canConnect(address, port, Math.max(1, deadline - Date.now()))) return;
    if (Date.now() >= deadline) throw new NotReadyError(`nothing listened on port ${port} in time`);
    await sleep(backoffDelay(PORT_POLL, tries));
  }
}

function canConnect(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: Math.min(timeoutMs, 1_000) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
