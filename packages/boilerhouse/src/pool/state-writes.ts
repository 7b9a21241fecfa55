/**
 * When an instance last wrote to its state: the newest modification time under the paths its sync
 * mappings cover (the whole volume when it has none), so transient files such as NanoClaw's `data/ipc/`
 * neither keep an instance claimed nor wake a reserved one. Restores keep the saved modification times, so
 * what Boilerhouse itself wrote does not count as the tenant writing.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Whether a path (relative to the state volume) holds state that counts; directories are walked regardless. */
export type Counts = (relative: string) => boolean;

/** The newest mtime (ms) of the counted files and directories below `dir`; 0 when there are none. */
export async function lastWriteAt(dir: string, counts: Counts = () => true): Promise<number> {
  let newest = 0;
  const visit = async (relative: string): Promise<void> => {
    const stats = await lstat(relative === '' ? dir : join(dir, relative)).catch(() => undefined);
    if (stats === undefined) return;
    if (relative !== '' && counts(relative)) newest = Math.max(newest, stats.mtimeMs);
    if (!stats.isDirectory()) return;
    const entries = await readdir(relative === '' ? dir : join(dir, relative)).catch(() => [] as string[]);
    for (const entry of entries) await visit(relative === '' ? entry : `${relative}/${entry}`);
  };
  await visit('');
  return newest;
}
