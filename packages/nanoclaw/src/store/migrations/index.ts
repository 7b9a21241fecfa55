/** Numbered migrations, applied in order; `PRAGMA user_version` records how many ran. Never edit one. */
import initial from './001-initial.ts';
import usage from './002-usage.ts';
import attachments from './003-attachments.ts';
import mcpServers from './004-mcp-servers.ts';

export const MIGRATIONS: readonly string[] = [initial, usage, attachments, mcpServers];
