/**
 * The host's answer to a request (AGENT-PROTOCOL.md, "Answers"): after each attempt at `{id}.json` it
 * writes `responses/{id}.result.json` in the group's IPC dir. The one definition of an answer, its file's
 * name, shape and size: the host writes it, the agent's tools read it. Pure: the host loads it too.
 */

export const RESPONSES_DIR = 'responses';
export const ANSWER_SUFFIX = '.result.json';

/** `retrying` is not final: the host could not carry the request out yet and will try again. */
export type HostAnswer =
  | { status: 'accepted'; taskId?: string }
  | { status: 'refused' | 'failed' | 'retrying'; reason: string };

/** An answer is a few hundred bytes; the agent reads none larger. */
export const MAX_ANSWER_BYTES = 16 * 1024;

/** The answer's file name for request file `requestFile` (`{id}.json`). */
export function answerFileName(requestFile: string): string {
  return `${requestFile.replace(/\.json$/, '')}${ANSWER_SUFFIX}`;
}

/** The answer in a file's text, or undefined when it is not one (or only part of one). */
export function parseAnswer(text: string): HostAnswer | undefined {
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
