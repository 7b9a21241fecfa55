/**
 * Host -> running agent (AGENT-PROTOCOL.md, "Follow-ups and closing"): in `/workspace/ipc/input/`, each
 * `{time}-{rand}.json` is a follow-up message and `_close` ends the run after the current turn. The one
 * definition of those files: the host writes them with formatFollowUp and CLOSE_FILE, the agent reads
 * them with parseFollowUp (follow-ups.ts). Pure: the host loads it too.
 */
import { type AgentImage, InputError, parseImages } from './input.ts';

export const INPUT_DIR = 'input';
export const CLOSE_FILE = '_close';

/** A follow-up: the text of the next turn and the images of its messages (as the input's `images`). */
export interface FollowUp {
  text: string;
  images: AgentImage[];
}

/** A follow-up file's content; `images` is left out when there are none. */
export function formatFollowUp(text: string, images: AgentImage[] = []): string {
  const message = images.length === 0 ? { type: 'message', text } : { type: 'message', text, images };
  return `${JSON.stringify(message)}\n`;
}

/** The follow-up in a file's text, or why it cannot be one. */
export function parseFollowUp(text: string): FollowUp | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const message = body as { type?: unknown; text?: unknown; images?: unknown } | null;
  if (message?.type !== 'message') return { error: 'expected "type": "message"' };
  if (typeof message.text !== 'string' || message.text.trim() === '')
    return { error: 'expected "text" to be a non-empty string' };
  try {
    return { text: message.text, images: parseImages(message.images, 'images') };
  } catch (error) {
    if (error instanceof InputError) return { error: error.message };
    throw error;
  }
}
