/**
 * When an instance last wrote to its state volume: the newest modification time of anything in it. A
 * reserved instance that keeps running (an assistant still hearing its channels) and writes there claims
 * itself back for its tenant, so nothing it does while reserved goes unsaved.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The newest mtime (ms) of the directory and everything below it; 0 when it does not exist. */
export async function lastWriteAt(dir: string): Promise<number> {
  let newest = 0;
  const visit = async (path: string): Promise<void> => {
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined) return;
    newest = Math.max(newest, stats.mtimeMs, stats.ctimeMs);
    if (!stats.isDirectory()) return;
    const entries = await readdir(path).catch(() => [] as string[]);
    for (const entry of entries) await visit(join(path, entry));
  };
  await visit(dir);
  return newest;
}
