/**
 * JSON files in the IPC directory. Every file appears whole or not at all: written as `*.tmp`, then
 * renamed, so the host never reads half a request (AGENT-PROTOCOL.md).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let lastTime = 0;

/**
 * `{time}-{rand}.json`. The time is this process's clock made strictly increasing (two files in one
 * millisecond get consecutive values), so names sort in the order they were written: a pause then a resume
 * must not reach the host the other way round. The random part keeps writers in other processes apart.
 */
export function ipcFileName(now = Date.now()): string {
  lastTime = Math.max(now, lastTime + 1);
  return `${lastTime}-${randomBytes(4).toString('hex')}.json`;
}

/** Writes `data` as a new file in `dir` (created if missing) and returns the file's name. */
export async function writeIpcFile(dir: string, data: object): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = ipcFileName();
  const path = join(dir, name);
  await writeFile(`${path}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return name;
}

/** The parsed content of a JSON file the host keeps, or undefined when the file does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}
