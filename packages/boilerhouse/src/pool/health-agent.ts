/**
 * The host side of the gate's health agent (native/gate.c): runs an instance's health test by a fork
 * inside the container, a few milliseconds, instead of a `docker exec`, 60-90. Framed over two FIFOs in
 * the instance's run directory:
 *
 *   request   "ID TIMEOUT_MS\n"
 *   response  "ID EXIT_CODE LENGTH\n" then LENGTH bytes of output (exit code 124: timed out, killed)
 *
 * The response FIFO is opened read-write, so it never reports end-of-file between writers and opening
 * never blocks; a late answer to an earlier request is recognised by its id and skipped. The workload's
 * user can write to that FIFO too, so what is read is bounded and streamed (health-answer.ts).
 */
import { constants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { ExecResult } from '../runtime/runtime.ts';
import { AnswerReader } from './health-answer.ts';

/** The agent is not there (no health test, or not started yet) or is busy with an earlier request. */
export class AgentUnavailableError extends Error {}

export const HEALTH_REQUEST_FIFO = 'health-request';
export const HEALTH_RESPONSE_FIFO = 'health-response';

let nextRequestId = 1;

export async function runViaAgent(runDir: string, timeoutMs: number): Promise<ExecResult> {
  const id = nextRequestId++;
  // Opened before the request is sent, so the answer always has a reader to go to.
  const socket = new Socket({
    fd: openSync(join(runDir, HEALTH_RESPONSE_FIFO), constants.O_RDWR | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  try {
    const request = await openRequest(join(runDir, HEALTH_REQUEST_FIFO));
    try {
      await request.write(`${id} ${Math.max(1, Math.round(timeoutMs))}\n`);
    } finally {
      await request.close();
    }
    return await readAnswer(socket, id, timeoutMs + 1_000);
  } finally {
    socket.destroy();
  }
}

/** How long to wait for the agent to come back to its request FIFO after answering the previous request. */
const AGENT_RETURN_MS = 25;

/** Opens the request FIFO for writing; there is no reader (ENXIO) while the agent is between requests. */
async function openRequest(path: string) {
  const deadline = performance.now() + AGENT_RETURN_MS;
  for (;;) {
    try {
      return await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new AgentUnavailableError('this instance has no health agent');
      if (code !== 'ENXIO') throw error;
      if (performance.now() > deadline) throw new AgentUnavailableError('no health agent is listening');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

function readAnswer(socket: Socket, id: number, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const reader = new AnswerReader(id);
    const timer = setTimeout(
      () => finish(new AgentUnavailableError('the health agent did not answer in time')),
      timeoutMs,
    );
    const finish = (result: ExecResult | Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      // Nothing more is read: whatever else is in the FIFO stays there, unread, bounded by the pipe.
      socket.pause();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      try {
        const result = reader.push(chunk);
        if (result !== undefined) finish(result);
      } catch (error) {
        finish(error as Error);
      }
    };
    socket.on('data', onData);
    socket.once('error', (error) => finish(error));
  });
}
