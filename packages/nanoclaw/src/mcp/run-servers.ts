/**
 * A run's MCP servers, for its input (AGENT-PROTOCOL.md, "MCP servers"): the group's entries in the store;
 * a server beside the host only when this host can run it (else it is left out, and logged), and then the
 * group's MCP gateway socket, and a token for it good for this run and group alone.
 */
import { join } from 'node:path';
import { MCP_SOCKET } from '@boilerhouse/nanoclaw-agent/mount-points';
import type { RunToken } from '../agent/run-tokens.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { McpServerStore } from '../store/mcp-servers.ts';
import type { McpGateway } from './gateway.ts';
import type { HostMcpServers } from './host-servers.ts';
import type { McpServerSpec } from './server-spec.ts';

export interface RunMcpAccess {
  servers: McpServerSpec[];
  /** The run's gateway token, when a server runs beside the host; the caller revokes it when the run ends. */
  issueToken(): RunToken | undefined;
}

export interface RunMcpDeps {
  layout: Layout;
  mcpServers: McpServerStore;
  hostServers: HostMcpServers;
  gateway: McpGateway;
  log: Logger;
}

/** The gateway's socket for a group's agents, beside the model proxy's in their mounted model dir. */
export function mcpSocketPath(layout: Layout, folder: string): string {
  return join(layout.modelDir(folder), MCP_SOCKET);
}

export async function mcpForRun(deps: RunMcpDeps, folder: string): Promise<RunMcpAccess> {
  const servers = deps.mcpServers.forGroup(folder).filter((spec) => {
    if (spec.type !== 'host') return true;
    const why = deps.hostServers.unavailable(spec.name);
    if (why !== undefined)
      deps.log.warn({ group: folder, server: spec.name, why }, 'MCP server left out of the run');
    return why === undefined;
  });
  if (!servers.some((spec) => spec.type === 'host')) return { servers, issueToken: () => undefined };
  await deps.gateway.serveGroup(folder, mcpSocketPath(deps.layout, folder));
  return { servers, issueToken: () => deps.gateway.issueToken(folder) };
}
