/**
 * The host's side of the answers to requests (`@boilerhouse/nanoclaw-agent/ipc-answers`): each written in the
 * group's `responses/` after an attempt, the agent's tool waiting for it. `retrying` is rewritten as attempts
 * go on and replaced by the final answer.
 */
import {
  ANSWER_SUFFIX,
  answerFileName,
  type HostAnswer,
  RESPONSES_DIR,
} from '@boilerhouse/nanoclaw-agent/ipc-answers';
import type { Layout } from '../layout.ts';
import { BeneathDir } from './beneath.ts';

/** Reasons are cut well short of the agent's MAX_ANSWER_BYTES (16 KiB): 2000 characters are at most 12 KB as JSON (`\\u` escapes). */
const MAX_REASON = 2000;

/** Writes the answer; throws when the agent made responses/ something other than a directory. */
export function writeAnswer(layout: Layout, folder: string, requestFile: string, answer: HostAnswer): void {
  const group = BeneathDir.open(layout.ipcDir(folder));
  if (group === undefined) return;
  try {
    const responses = group.sub(RESPONSES_DIR);
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
    const responses = group.sub(RESPONSES_DIR);
    if (responses === undefined) return;
    try {
      for (const name of responses.list()) {
        if (name.endsWith(ANSWER_SUFFIX) || name.endsWith('.tmp')) responses.remove(name);
      }
    } finally {
      responses.close();
    }
  } finally {
    group.close();
  }
}
