/**
 * When an instance last wrote to its state: the newest modification time under the paths its sync
 * mappings cover (the whole volume when it has none), so transient files such as NanoClaw's `data/ipc/`
 * neither keep an instance claimed nor wake a reserved one. Restores keep the saved modification times, so
 * what Boilerhouse itself wrote does not count as the tenant writing. The walk never follows a link (see
 * state/beneath.ts): an entry is looked at through its parent's open directory.
 */
import { lstat } from 'node:fs/promises';
import { isNotFound, named, walkBeneath } from '../state/beneath.ts';

/** Whether a path (relative to the state volume) holds state that counts; directories are walked regardless. */
export type Counts = (relative: string) => boolean;

/** The newest mtime (ms) of the counted files and directories below `dir`; 0 when there are none. */
export async function lastWriteAt(dir: string, counts: Counts = () => true): Promise<number> {
  let newest = 0;
  const walked = walkBeneath(dir, async (entry) => {
    if (!counts(entry.path)) return;
    const stats = await lstat(entry.at).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw named(entry.path, error);
    });
    if (stats !== undefined) newest = Math.max(newest, stats.mtimeMs);
  });
  // No state volume (yet, or any more): nothing written.
  await walked.catch((error: unknown) => {
    if (!(isNotFound(error) && (error as { path?: string }).path === dir)) throw error;
  });
  return newest;
}
