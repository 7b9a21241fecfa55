/**
 * Where the host's mounts appear in the container (AGENT-PROTOCOL.md, "Mounts"). NANOCLAW_WORKSPACE moves
 * them all under another root, for running the agent outside a container.
 */
import { join } from 'node:path';

export interface WorkspacePaths {
  /** The group's folder: the working directory and its memory (CLAUDE.md). */
  group: string;
  /** Global memory (CLAUDE.md); the whole groups dir for the main group. */
  global: string;
  /** The group's IPC directory. */
  ipc: string;
  /** The host's model proxy socket (its directory mounted read-only). */
  modelSocket: string;
  /** The host's MCP gateway, beside it: servers that hold a credential run with the host. */
  mcpSocket: string;
}

export function workspacePaths(root = process.env.NANOCLAW_WORKSPACE || '/workspace'): WorkspacePaths {
  return {
    group: join(root, 'group'),
    global: join(root, 'global'),
    ipc: join(root, 'ipc'),
    modelSocket: join(root, 'model', 'model.sock'),
    mcpSocket: join(root, 'model', 'mcp.sock'),
  };
}
