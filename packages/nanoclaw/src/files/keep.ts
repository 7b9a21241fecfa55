/**
 * An incoming message's files kept in its group's folder. A file that is announced too large is not
 * fetched, and one that cannot be fetched (its channel failed) is left out; either way the message keeps
 * a note saying so, so it is never lost for one of its files. A failure to write into the folder is not a
 * note: it is thrown, and the message is not stored.
 */
import type { Logger } from '../log.ts';
import type { Attachment, IncomingFile } from './attachment.ts';
import type { GroupFiles } from './group-files.ts';
import { MAX_FILE_BYTES, megabytes } from './limits.ts';
import { safeFileName } from './names.ts';

export interface KeptFiles {
  attachments: Attachment[];
  /** One line per file left out, for the message's text. */
  notes: string[];
}

export async function keepFiles(
  files: GroupFiles,
  folder: string,
  incoming: IncomingFile[],
  log: Logger,
): Promise<KeptFiles> {
  const kept: KeptFiles = { attachments: [], notes: [] };
  for (const file of incoming) {
    const name = safeFileName(file.name, 'file');
    if (file.size !== undefined && file.size > MAX_FILE_BYTES) {
      kept.notes.push(
        `[${name} was not kept: ${megabytes(file.size)}, more than the ${megabytes(MAX_FILE_BYTES)} a file may have]`,
      );
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await file.read(MAX_FILE_BYTES);
    } catch (error) {
      log.warn({ group: folder, file: name, error }, 'a file of a message could not be fetched');
      kept.notes.push(`[${name} could not be fetched: ${(error as Error).message}]`);
      continue;
    }
    kept.attachments.push(files.save(folder, name, bytes));
  }
  return kept;
}

/** The text with a note per file that was not kept, and for files not kept at all (a held message). */
export function withNotes(text: string, notes: string[]): string {
  return [text, ...notes].filter((line) => line !== '').join('\n');
}

/** Notes for files a message brought but that were not fetched (a message held for approval). */
export function notKeptNotes(files: IncomingFile[], why: string): string[] {
  return files.map((file) => `[${safeFileName(file.name, 'file')} was not kept: ${why}]`);
}
