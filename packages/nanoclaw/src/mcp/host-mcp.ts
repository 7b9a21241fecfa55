/**
 * MCP for the whole host, assembled: the store of each group's servers (the operator's written in at
 * start), the servers that run beside the host (Gmail), the gateway agents reach them through, and what
 * runs and the main chat's commands need of them.
 */
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import type { GroupRegistry } from '../store/groups.ts';
import { McpServerStore } from '../store/mcp-servers.ts';
import type { McpCommandDeps } from './commands.ts';
import { McpGateway } from './gateway.ts';
import { gmailCredentialsPath, gmailServer } from './gmail.ts';
import { GmailConnection } from './gmail-command.ts';
import { HostMcpServers } from './host-servers.ts';
import { mcpForRun, type RunMcpAccess } from './run-servers.ts';

export interface HostMcp {
  forRun(folder: string): Promise<RunMcpAccess>;
  commands: McpCommandDeps;
  gmail: GmailConnection;
  close(): Promise<void>;
}

export interface HostMcpDeps {
  config: Config;
  layout: Layout;
  db: Database;
  groups: GroupRegistry;
  log: Logger;
  now(): number;
}

export function hostMcp({ config, layout, db, groups, log, now }: HostMcpDeps): HostMcp {
  const mcpServers = new McpServerStore(db);
  mcpServers.replaceOperator(config.mcpServers, now());
  // The host's own directory for their sockets: never mounted into an agent container.
  const hostServers = new HostMcpServers(
    [gmailServer(config.gmail, layout)],
    join(layout.dataDir, 'mcp'),
    log,
  );
  const gateway = new McpGateway({
    allowed: (group, name) =>
      mcpServers.forGroup(group).some((spec) => spec.type === 'host' && spec.name === name),
    socketOf: (name) => hostServers.socketOf(name),
    log,
  });
  return {
    forRun: (folder) => mcpForRun({ layout, mcpServers, hostServers, gateway, log }, folder),
    commands: { mcpServers, groups, hostServers, now },
    gmail: new GmailConnection({
      settings: config.gmail,
      credentialsPath: gmailCredentialsPath(layout),
      mcpServers,
      log,
      now,
    }),
    close: async () => {
      await gateway.close();
      await hostServers.stop();
    },
  };
}
