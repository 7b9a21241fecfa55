/**
 * Where the host mounts a group's directories in the agent's container (AGENT-PROTOCOL.md, "Mounts"): the
 * host's mounts.ts mounts them there, the agent's workspace.ts finds them there. Pure: the host loads it too.
 */

export const WORKSPACE_ROOT = '/workspace';
/** The mounts below WORKSPACE_ROOT: the group's folder, global memory, IPC, the host's sockets. */
export const WORKSPACE_DIRS = { group: 'group', global: 'global', ipc: 'ipc', model: 'model' } as const;
/** In the model dir: the host's model proxy, and its MCP gateway beside it. */
export const MODEL_SOCKET = 'model.sock';
export const MCP_SOCKET = 'mcp.sock';
/** The SDK's session state: the container user's `~/.claude`. */
export const SESSION_DIR = '/home/node/.claude';

/** Where mount `dir` is in the container (below another root when the agent runs outside one). */
export function mountPoint(dir: keyof typeof WORKSPACE_DIRS, root: string = WORKSPACE_ROOT): string {
  return `${root}/${WORKSPACE_DIRS[dir]}`;
}
