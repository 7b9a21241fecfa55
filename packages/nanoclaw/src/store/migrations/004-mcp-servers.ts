/**
 * The MCP servers each group's agent gets (mcp/): added from the main chat (`/mcp add`) or by the operator
 * (NANOCLAW_MCP_SERVERS, written again at every start). In the database, so they are saved and restored
 * with the tenant's state.
 */
export default `
CREATE TABLE group_mcp_servers (
  -- a group folder, or '*': every group
  group_folder TEXT NOT NULL,
  -- the middle of its tools' names: mcp__<name>__<tool>
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('stdio', 'http', 'sse', 'host')),
  -- stdio: a package of the agent image and its arguments (a JSON list)
  package TEXT,
  args TEXT NOT NULL DEFAULT '[]',
  -- http, sse: the server's URL
  url TEXT,
  source TEXT NOT NULL CHECK (source IN ('chat', 'operator')),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (group_folder, name)
);
`;
