/**
 * How large the files of a chat may be, in one place: the web page states these, every channel keeps to
 * them, and the agent's send_file is held to the same.
 */

/** One file, in bytes (10 MB). Telegram's bots may download 20 MB; WhatsApp documents can be larger. */
export const MAX_FILE_BYTES = 10_000_000;
/** Files in one message of the web chat. */
export const MAX_FILES_PER_MESSAGE = 5;
/** The folder in each group's folder where a chat's files are kept. */
export const FILES_DIR = 'files';

/** `10 MB`, for people. */
export function megabytes(bytes: number): string {
  return `${Number((bytes / 1_000_000).toFixed(1))} MB`;
}
