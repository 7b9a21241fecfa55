/** A random id for this NanoClaw home, kept in data/host_id: it labels and names its agent containers. */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export function hostIdAt(path: string): string {
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[a-z0-9]{8}$/.test(id)) return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = randomBytes(4).toString('hex');
  writeFileSync(path, `${id}\n`);
  return id;
}
