/**
 * A chat's files, kept in its group's folder as `groups/{group}/files/{name}` (so they are in the agent's
 * workspace, and saved with the tenant's state). That folder is the agent's: it may swap any entry for a
 * link between two of our calls, so every read and write goes through ipc/beneath.ts, one segment at a
 * time from the group folder, never following a link, and only regular files are read, up to
 * MAX_FILE_BYTES.
 */
import { BeneathDir, NotARegularFileError, TooLargeError } from '../ipc/beneath.ts';
import { AGENT_UID, type Layout } from '../layout.ts';
import type { Attachment } from './attachment.ts';
import { FILES_DIR, MAX_FILE_BYTES, megabytes } from './limits.ts';
import { fileNameProblem, safeFileName, withSuffix } from './names.ts';
import { sniffType } from './sniff.ts';

/** A file that cannot be used as asked (gone, a link, a directory, too large): the reason, for a person. */
export class FileRefusedError extends Error {
  /** Nothing there at all (the rest are refusals of what is there). */
  readonly missing: boolean;
  constructor(message: string, missing = false) {
    super(message);
    this.missing = missing;
  }
}

/** Collisions tried before giving up: a folder with this many `name-N` files is someone's doing. */
const MAX_SUFFIX = 1000;

export class GroupFiles {
  readonly #layout: Layout;
  constructor(layout: Layout) {
    this.#layout = layout;
  }

  /**
   * Keeps `bytes` as `files/{name}` of the group (`name` made safe first; `-2`, `-3`... before the
   * extension when taken), owned by the agent's uid; what was kept.
   */
  save(folder: string, name: string, bytes: Buffer): Attachment {
    const safe = safeFileName(name, 'file');
    const owner = process.getuid?.() === 0 ? AGENT_UID : undefined;
    return this.#inGroup(folder, (group) => {
      const files = group.ensureSub(FILES_DIR, owner);
      try {
        for (let count = 1; count <= MAX_SUFFIX; count++) {
          const candidate = count === 1 ? safe : withSuffix(safe, count);
          if (files.writeNew(candidate, bytes, owner))
            return { name: candidate, type: sniffType(bytes), size: bytes.length };
        }
      } finally {
        files.close();
      }
      throw new Error(`${folder}/${FILES_DIR} has ${MAX_SUFFIX} files named like ${safe}`);
    });
  }

  /** The bytes of `files/{name}` of the group. */
  read(folder: string, name: string): Buffer {
    const problem = fileNameProblem(name);
    if (problem !== undefined) throw new FileRefusedError(`file name "${name}" ${problem}`);
    return this.readPath(folder, `${FILES_DIR}/${name}`);
  }

  /**
   * The bytes of the file at `path`, relative to the group's folder (`files/photo.png`, `out/chart.png`):
   * each directory opened beneath the last, none of them a link, and the file itself a regular file.
   */
  readPath(folder: string, path: string): Buffer {
    const segments = path.split('/');
    if (segments.some((segment) => segment === '' || segment === '.' || segment === '..'))
      throw new FileRefusedError(
        `"${path}" is not a plain path inside the group's folder (no "..", no "//")`,
      );
    const name = segments.pop() as string;
    return this.#inGroup(folder, (group) => {
      const opened: BeneathDir[] = [group];
      try {
        for (const segment of segments) {
          const next = refusing(path, () => (opened.at(-1) as BeneathDir).sub(segment));
          if (next === undefined)
            throw new FileRefusedError(`there is no ${path} in the group's folder`, true);
          opened.push(next);
        }
        return refusing(path, () => (opened.at(-1) as BeneathDir).read(name, MAX_FILE_BYTES));
      } finally {
        for (const dir of opened.slice(1)) dir.close();
      }
    });
  }

  #inGroup<T>(folder: string, use: (group: BeneathDir) => T): T {
    const group = BeneathDir.open(this.#layout.groupDir(folder));
    if (group === undefined) throw new Error(`the folder of group ${folder} does not exist`);
    try {
      return use(group);
    } finally {
      group.close();
    }
  }
}

/** Runs `open`, turning what the agent may have put in the way into a FileRefusedError; the rest is thrown. */
function refusing<T>(path: string, open: () => T): T {
  try {
    return open();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileRefusedError(`there is no ${path} in the group's folder`, true);
    if (code === 'ELOOP')
      throw new FileRefusedError(`${path} is (or goes through) a link; links are not followed`);
    if (code === 'ENOTDIR')
      throw new FileRefusedError(
        `${path} goes through something that is not a folder (links are not followed)`,
      );
    if (error instanceof NotARegularFileError) throw new FileRefusedError(`${path} is not a regular file`);
    if (error instanceof TooLargeError)
      throw new FileRefusedError(`${path} is larger than ${megabytes(MAX_FILE_BYTES)}, the limit for a file`);
    throw error;
  }
}
