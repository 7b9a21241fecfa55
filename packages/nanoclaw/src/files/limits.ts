/**
 * How large the files of a chat may be, in one place: the web page states these, every channel keeps to
 * them, and the agent's send_file is held to the same.
 */
import { MAX_FILE_BYTES } from '@boilerhouse/nanoclaw-agent/input';

/**
 * One file, in bytes: defined with the agent's input, which reads images up to it. Telegram's bots may
 * download 20 MB; WhatsApp documents can be larger.
 */
export { MAX_FILE_BYTES };
/** Files in one message of the web chat. */
export const MAX_FILES_PER_MESSAGE = 5;
/** The folder in each group's folder where a chat's files are kept. */
export const FILES_DIR = 'files';

/** `10 MB`, for people. */
export function megabytes(bytes: number): string {
  return `${Number((bytes / 1_000_000).toFixed(1))} MB`;
}
