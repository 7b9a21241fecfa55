/**
 * The host's side of `/workspace/ipc/input/` (AGENT-PROTOCOL.md, "Follow-ups and closing"): follow-up
 * messages for a running agent and the `_close` marker, each written atomically (temp file, rename).
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_UID } from '../layout.ts';

export function inputDir(ipcDir: string): string {
  return join(ipcDir, 'input');
}

/** Empties the input dir before a run, so a new agent never reads what was meant for an old one. */
export function clearInput(ipcDir: string): void {
  const dir = inputDir(ipcDir);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true, recursive: true });
}

export function writeFollowUp(ipcDir: string, text: string): void {
  const name = `${Date.now()}-${randomBytes(4).toString('hex')}.json`;
  writeAtomic(join(inputDir(ipcDir), name), `${JSON.stringify({ type: 'message', text })}\n`);
}

export function writeClose(ipcDir: string): void {
  writeAtomic(join(inputDir(ipcDir), '_close'), '');
}

function writeAtomic(path: string, content: string): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, content);
  // The agent deletes input files after reading them.
  if (process.getuid?.() === 0) chownSync(temporary, AGENT_UID, AGENT_UID);
  renameSync(temporary, path);
}
