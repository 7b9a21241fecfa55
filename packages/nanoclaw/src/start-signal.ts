/**
 * Boilerhouse's start message, for a NanoClaw that boots ahead of its claim (the workload's `pool.boot:
 * ahead`): the process loads its code while its instance waits in the pool, and touches nothing of its home
 * (the tenant's state volume, still empty then) until Boilerhouse has restored the tenant's state into it
 * and written the message to the FIFO named by BOILERHOUSE_START: the byte `g`, then `KEY=VALUE\0` entries
 * for the environment (BOILERHOUSE_TENANT, ...), ended by the writer closing. A FIFO closed without `g`
 * means Boilerhouse gave up on the instance.
 */
import { readFile } from 'node:fs/promises';

export class StartRefusedError extends Error {}

/** Waits for the start message on `fifo` and returns the environment it adds. */
export async function awaitStart(fifo: string): Promise<Record<string, string>> {
  // Opening a FIFO for reading waits for its writer; the read ends when the writer closes.
  return parseStartMessage(await readFile(fifo));
}

export function parseStartMessage(message: Buffer): Record<string, string> {
  if (message[0] !== 'g'.charCodeAt(0)) {
    throw new StartRefusedError('Boilerhouse closed the start FIFO without a start message');
  }
  const env: Record<string, string> = {};
  for (const entry of message.subarray(1).toString('utf8').split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}
