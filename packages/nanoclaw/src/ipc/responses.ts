/**
 * The host's answer to each request (AGENT-PROTOCOL.md, "Answers"): `responses/{id}.result.json` in the
 * group's IPC dir, `{id}` being the request file's name without `.json`. The agent's tool waits for it;
 * `retrying` is rewritten as attempts go on and replaced by the final answer.
 */
import type { Layout } from '../layout.ts';
import { BeneathDir } from './beneath.ts';

export type RequestAnswer =
  | { status: 'accepted'; taskId?: string }
  | { status: 'refused' | 'failed' | 'retrying'; reason: string };

/** The agent reads answers up to 16 KiB; reasons are cut well short of that. */
const MAX_REASON = 2000;

export function answerFileName(requestFile: string): string {
  return `${requestFile.replace(/\.json$/, '')}.result.json`;
}

/** Writes the answer; throws when the agent made responses/ something other than a directory. */
export function writeAnswer(
  layout: Layout,
  folder: string,
  requestFile: string,
  answer: RequestAnswer,
): void {
  const group = BeneathDir.open(layout.ipcDir(folder));
  if (group === undefined) return;
  try {
    const responses = group.sub('responses');
    if (responses === undefined) return;
    try {
      const body = 'reason' in answer ? { ...answer, reason: answer.reason.slice(0, MAX_REASON) } : answer;
      responses.write(answerFileName(requestFile), `${JSON.stringify(body)}\n`);
    } finally {
      responses.close();
    }
  } finally {
    group.close();
  }
}

/** Removes every answer in the group's responses/ (before a run: answers are for the run that asked). */
export function clearAnswers(layout: Layout, folder: string): void {
  const group = BeneathDir.open(layout.ipcDir(folder));
  if (group === undefined) return;
  try {
    const responses = group.sub('responses');
    if (responses === undefined) return;
    try {
      for (const name of responses.list()) {
        if (name.endsWith('.result.json') || name.endsWith('.tmp')) responses.remove(name);
      }
    } finally {
      responses.close();
    }
  } finally {
    group.close();
  }
}
