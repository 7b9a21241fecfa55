/**
 * The MCP servers a run's group is configured with (AGENT-PROTOCOL.md, "MCP servers"): in the input's
 * `mcpServers`, set by the host from its store. `stdio` runs a package of the agent image in the
 * container; `http` and `sse` are remote servers the agent calls itself; `host` is a server that runs
 * beside the host (it holds a credential) and is reached through the host's socket with `mcpToken`.
 */
export type AgentMcpServer =
  | { name: string; type: 'stdio'; package: string; args: string[] }
  | { name: string; type: 'http' | 'sse'; url: string }
  | { name: string; type: 'host' };

/** A server's name: also the middle of its tools' names, `mcp__<name>__<tool>`. */
export const MCP_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
/** An npm package name, scoped or not. */
export const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** The agent's own servers, which every run has: its IPC tools (mcp-tools.ts) and the browser (browser.ts). */
export const NANOCLAW_SERVER_NAME = 'nanoclaw';
export const BROWSER_SERVER_NAME = 'browser';
/** Names no configured server may take (the host refuses them). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([NANOCLAW_SERVER_NAME, BROWSER_SERVER_NAME]);

export class McpConfigError extends Error {
  override name = 'McpConfigError';
}

/** `mcpServers` of the input; none when left out. Throws naming the entry and field that are wrong. */
export function parseMcpServers(value: unknown): AgentMcpServer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new McpConfigError('input.mcpServers: expected a list');
  const names = new Set<string>();
  return value.map((entry, index) => {
    const where = `input.mcpServers[${index}]`;
    const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const name = fields.name;
    if (typeof name !== 'string' || !MCP_NAME.test(name))
      throw new McpConfigError(`${where}.name: expected a name of lowercase letters, digits, _ or -`);
    if (names.has(name)) throw new McpConfigError(`${where}.name: "${name}" is listed twice`);
    names.add(name);
    switch (fields.type) {
      case 'stdio': {
        const args = fields.args ?? [];
        if (typeof fields.package !== 'string' || !PACKAGE_NAME.test(fields.package))
          throw new McpConfigError(`${where}.package: expected an npm package name`);
        if (!Array.isArray(args) || args.some((arg) => typeof arg !== 'string'))
          throw new McpConfigError(`${where}.args: expected a list of strings`);
        return { name, type: 'stdio', package: fields.package, args: args as string[] };
      }
      case 'http':
      case 'sse':
        if (typeof fields.url !== 'string' || !/^https?:\/\/\S+$/.test(fields.url))
          throw new McpConfigError(`${where}.url: expected an http:// or https:// URL`);
        return { name, type: fields.type, url: fields.url };
      case 'host':
        return { name, type: 'host' };
      default:
        throw new McpConfigError(`${where}.type: expected stdio, http, sse or host`);
    }
  });
}
