/**
 * Where the host's mounts appear in the container (mount-points.ts). NANOCLAW_WORKSPACE moves them all
 * under another root, for running the agent outside a container.
 */
import { join } from 'node:path';
import { MCP_SOCKET, MODEL_SOCKET, mountPoint, WORKSPACE_ROOT } from './mount-points.ts';

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

export function workspacePaths(root = process.env.NANOCLAW_WORKSPACE || WORKSPACE_ROOT): WorkspacePaths {
  return {
    group: mountPoint('group', root),
    global: mountPoint('global', root),
    ipc: mountPoint('ipc', root),
    modelSocket: join(mountPoint('model', root), MODEL_SOCKET),
    mcpSocket: join(mountPoint('model', root), MCP_SOCKET),
  };
}
