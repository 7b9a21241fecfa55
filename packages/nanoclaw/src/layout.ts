/**
 * Where everything lives under NANOCLAW_HOME: the layout the NanoClaw workload file syncs.
 *
 *   store/messages.db            chats, messages, scheduled tasks, task run logs
 *   store/auth_info_baileys/     WhatsApp credentials
 *   data/registered_groups.json  chat -> group folder
 *   data/state.json              router cursors and agent sessions
 *   data/sessions/{group}/       the agent's ~/.claude
 *   data/ipc/{group}/            file IPC with that group's agent
 *   data/ipc-errors/{group}/     that group's requests set aside (refused, or failed every attempt), with why
 *   data/model/{group}/          the model proxy's socket for that group's agents (mounted read-only)
 *   groups/CLAUDE.md             global memory
 *   groups/{group}/              group memory, files, logs/
 */
import { chownSync, existsSync, lchownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESPONSES_DIR } from '@boilerhouse/nanoclaw-agent/ipc-answers';
import { INPUT_DIR } from '@boilerhouse/nanoclaw-agent/ipc-input';
import { FOLDER_PATTERN, IPC_KINDS, MAIN_FOLDER } from '@boilerhouse/nanoclaw-agent/ipc-requests';
import { MODEL_SOCKET } from '@boilerhouse/nanoclaw-agent/mount-points';

/** The uid agent containers run as; the dirs they write must be theirs. */
export const AGENT_UID = 1000;

/** A group folder name, and the main group's: defined with the requests, as register_group checks them. */
export { FOLDER_PATTERN, MAIN_FOLDER };

export class Layout {
  readonly home: string;
  constructor(home: string) {
    this.home = home;
  }
  get storeDir() {
    return join(this.home, 'store');
  }
  get databasePath() {
    return join(this.storeDir, 'messages.db');
  }
  get whatsappAuthDir() {
    return join(this.storeDir, 'auth_info_baileys');
  }
  get dataDir() {
    return join(this.home, 'data');
  }
  get registeredGroupsPath() {
    return join(this.dataDir, 'registered_groups.json');
  }
  get statePath() {
    return join(this.dataDir, 'state.json');
  }
  get hostIdPath() {
    return join(this.dataDir, 'host_id');
  }
  get ipcRoot() {
    return join(this.dataDir, 'ipc');
  }
  get groupsDir() {
    return join(this.home, 'groups');
  }
  get globalMemoryPath() {
    return join(this.groupsDir, 'CLAUDE.md');
  }
  sessionDir(folder: string) {
    return join(this.dataDir, 'sessions', checkedFolder(folder));
  }
  ipcDir(folder: string) {
    return join(this.ipcRoot, checkedFolder(folder));
  }
  /** The host's own, beside data/ipc/ rather than in it: no agent sees or fills it. */
  ipcErrorsDir(folder: string) {
    return join(this.dataDir, 'ipc-errors', checkedFolder(folder));
  }
  modelDir(folder: string) {
    return join(this.dataDir, 'model', checkedFolder(folder));
  }
  modelSocketPath(folder: string) {
    return join(this.modelDir(folder), MODEL_SOCKET);
  }
  groupDir(folder: string) {
    return join(this.groupsDir, checkedFolder(folder));
  }
  logsDir(folder: string) {
    return join(this.groupDir(folder), 'logs');
  }
}

/** Guards every path built from a folder name: no separators, no `..`. */
function checkedFolder(folder: string): string {
  if (!FOLDER_PATTERN.test(folder)) throw new Error(`"${folder}" is not a valid group folder name`);
  return folder;
}

/**
 * Makes a directory (and parents) that agent containers can write; owned by them when we are root. An
 * agent may have put a link there: lchown changes the link, never what it points to.
 */
export function makeAgentDir(path: string): void {
  mkdirSync(path, { recursive: true });
  if (process.getuid?.() === 0) lchownSync(path, AGENT_UID, AGENT_UID);
}

/** The (empty) directories one group's agent container mounts. */
export function makeGroupMountDirs(layout: Layout, folder: string): void {
  makeAgentDir(layout.groupDir(folder));
  makeAgentDir(layout.logsDir(folder));
  makeAgentDir(layout.sessionDir(folder));
  for (const sub of ['', ...IPC_KINDS, INPUT_DIR, RESPONSES_DIR])
    makeAgentDir(join(layout.ipcDir(folder), sub));
  // The host's, not the agent's: only the model proxy's socket lives here.
  mkdirSync(layout.modelDir(folder), { recursive: true, mode: 0o755 });
}

/** The directories one group's runs need, with default memory when there is none yet. */
export function prepareGroupDirs(layout: Layout, folder: string): void {
  makeGroupMountDirs(layout, folder);
  const memory = join(layout.groupDir(folder), 'CLAUDE.md');
  if (!existsSync(memory)) {
    writeFileSync(
      memory,
      `# ${folder}\n\nNotes this group's assistant keeps. Add what it should remember.\n`,
    );
    if (process.getuid?.() === 0) chownSync(memory, AGENT_UID, AGENT_UID);
  }
}

/** The top-level directories and the global memory file. */
export function prepareHome(layout: Layout, assistantName: string): void {
  mkdirSync(layout.storeDir, { recursive: true });
  mkdirSync(layout.ipcRoot, { recursive: true });
  makeAgentDir(layout.groupsDir);
  if (!existsSync(layout.globalMemoryPath)) {
    writeFileSync(
      layout.globalMemoryPath,
      `# ${assistantName}\n\nYou are ${assistantName}, a personal assistant. Facts and preferences here apply to every chat.\n`,
    );
    if (process.getuid?.() === 0) chownSync(layout.globalMemoryPath, AGENT_UID, AGENT_UID);
  }
}
