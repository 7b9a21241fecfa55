/**
 * The host's answer to a request (AGENT-PROTOCOL.md, "Answers"): after handling `{id}.json` it writes
 * `/workspace/ipc/responses/{id}.result.json`. A tool that sent a request waits a bounded time for it,
 * so the model hears that a request was refused, and why, instead of "done".
 */

import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  answerFileName,
  type HostAnswer,
  MAX_ANSWER_BYTES,
  parseAnswer,
  RESPONSES_DIR,
} from './ipc-answers.ts';

/** What the host said (ipc-answers.ts), or that it said nothing in time. */
export type HostReply = HostAnswer | { status: 'unanswered' };

const POLL_MS = 50;

/** The host's answer to request `requestFile`, waiting up to `timeoutMs`; a final answer is removed once read. */
export async function awaitHostReply(
  ipcDir: string,
  requestFile: string,
  timeoutMs: number,
): Promise<HostReply> {
  const path = join(ipcDir, RESPONSES_DIR, answerFileName(requestFile));
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
      if (!stats.isFile() || stats.size > MAX_ANSWER_BYTES) return undefined;
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseAnswer(text);
}
