/**
 * The host's side of `/workspace/ipc/input/` (`@boilerhouse/nanoclaw-agent/ipc-input`): follow-up
 * messages for a running agent and the `_close` marker, each written atomically (temp file, rename). The
 * folder is the agent's, so it is used through ipc/beneath.ts: a link swapped in for `input/` or for a
 * file in it is never followed (the name `_close.tmp` is one an agent could guess).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentImage } from '@boilerhouse/nanoclaw-agent/input';
import { CLOSE_FILE, formatFollowUp, INPUT_DIR } from '@boilerhouse/nanoclaw-agent/ipc-input';
import { BeneathDir } from '../ipc/beneath.ts';
import { AGENT_UID } from '../layout.ts';

export function inputDir(ipcDir: string): string {
  return join(ipcDir, INPUT_DIR);
}

/** Runs `use` on the group's input dir; throws when the agent made it something other than a directory. */
function withInput(ipcDir: string, use: (dir: BeneathDir) => void): void {
  const group = BeneathDir.open(ipcDir);
  if (group === undefined) throw new Error(`${ipcDir} does not exist`);
  try {
    const input = group.sub(INPUT_DIR);
    if (input === undefined) throw new Error(`${inputDir(ipcDir)} does not exist`);
    try {
      use(input);
    } finally {
      input.close();
    }
  } finally {
    group.close();
  }
}

/**
 * Empties the input dir before a run, so a new agent never reads what was meant for an old one.
 * Directories in it (the agent's doing) are left: walking them could be led out of the folder.
 */
export function clearInput(ipcDir: string): void {
  mkdirSync(inputDir(ipcDir), { recursive: true });
  withInput(ipcDir, (input) => {
    for (const name of input.list()) input.remove(name);
  });
}

/**
 * The agent reads follow-ups in name order, so a name's stamp only ever grows: two written in the same
 * millisecond (or across a clock step back) keep the order they were written in.
 */
let lastStamp = 0;

export function writeFollowUp(ipcDir: string, text: string, images: AgentImage[] = []): void {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  const name = `${lastStamp}-${randomBytes(4).toString('hex')}.json`;
  writeAtomic(ipcDir, name, formatFollowUp(text, images));
}

export function writeClose(ipcDir: string): void {
  writeAtomic(ipcDir, CLOSE_FILE, '');
}

function writeAtomic(ipcDir: string, name: string, content: string): void {
  // The agent deletes input files after reading them.
  const owner = process.getuid?.() === 0 ? AGENT_UID : undefined;
  withInput(ipcDir, (input) => input.write(name, content, owner));
}
