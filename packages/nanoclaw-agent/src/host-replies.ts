/**
 * The host's answer to a request (AGENT-PROTOCOL.md, "Answers"): after handling `{id}.json` it writes
 * `/workspace/ipc/responses/{id}.result.json`. A tool that sent a request waits a bounded time for it,
 * so the model hears that a request was refused, and why, instead of "done".
 */

import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** What the host said; `retrying` is not final (it could not carry the request out yet and will try again). */
export type HostReply =
  | { status: 'accepted'; taskId?: string }
  | { status: 'refused' | 'failed' | 'retrying'; reason: string }
  | { status: 'unanswered' };

/** An answer is a few hundred bytes; anything larger is not one. */
const MAX_REPLY_BYTES = 16 * 1024;
const POLL_MS = 50;

export function responsesDir(ipcDir: string): string {
  return join(ipcDir, 'responses');
}

/** The host's answer to request `requestFile`, waiting up to `timeoutMs`; a final answer is removed once read. */
export async function awaitHostReply(
  ipcDir: string,
  requestFile: string,
  timeoutMs: number,
): Promise<HostReply> {
  const path = join(responsesDir(ipcDir), `${requestFile.replace(/\.json$/, '')}.result.json`);
  const deadline = Date.now() + timeoutMs;
  let last: HostReply = { status: 'unanswered' };
  for (;;) {
    const reply = await readReply(path);
    if (reply !== undefined) {
      last = reply;
      if (reply.status !== 'retrying') {
        await unlink(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        return reply;
      }
    }
    if (Date.now() >= deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The answer at `path`, or undefined while there is none (or only part of one). */
async function readReply(path: string): Promise<HostReply | undefined> {
  let text: string;
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stats = await file.stat();
      if (!stats.isFile() || stats.size > MAX_REPLY_BYTES) return undefined;
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseReply(text);
}

export function parseReply(text: string): HostReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { status, reason, taskId } = value as Record<string, unknown>;
  if (status === 'accepted') return typeof taskId === 'string' ? { status, taskId } : { status };
  if ((status === 'refused' || status === 'failed' || status === 'retrying') && typeof reason === 'string')
    return { status, reason };
  return undefined;
}
