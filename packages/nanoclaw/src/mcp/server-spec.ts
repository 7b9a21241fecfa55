/**
 * What an MCP server entry of a group is, and the checks every entry passes wherever it comes from (the
 * main chat, the operator's NANOCLAW_MCP_SERVERS). The agent reads the same shape from its input
 * (packages/nanoclaw-agent/src/mcp-config.ts, AGENT-PROTOCOL.md "MCP servers").
 */
import type { AgentMcpServer } from '@boilerhouse/nanoclaw-agent/input';
import { MCP_NAME, PACKAGE_NAME, RESERVED_NAMES } from '@boilerhouse/nanoclaw-agent/mcp-config';

export type McpServerSpec = AgentMcpServer;

const MAX_ARGS = 32;
const MAX_ARG_CHARS = 1000;
const MAX_URL_CHARS = 2000;

/** Why `spec` cannot be a group's server, or undefined when it can; `hostServers` are those this host runs. */
export function specProblem(spec: McpServerSpec, hostServers: ReadonlySet<string>): string | undefined {
  if (!MCP_NAME.test(spec.name))
    return 'a name is 1-32 lowercase letters, digits, _ or -, starting with a letter';
  if (RESERVED_NAMES.has(spec.name)) return `"${spec.name}" is the agent's own; choose another name`;
  switch (spec.type) {
    case 'stdio':
      if (!PACKAGE_NAME.test(spec.package)) return `"${spec.package}" is not an npm package name`;
      if (spec.args.length > MAX_ARGS) return `at most ${MAX_ARGS} arguments`;
      if (spec.args.some((arg) => arg.length > MAX_ARG_CHARS || arg.includes('\0')))
        return `each argument is at most ${MAX_ARG_CHARS} characters`;
      return undefined;
    case 'http':
    case 'sse': {
      let url: URL;
      try {
        url = new URL(spec.url);
      } catch {
        return `"${spec.url.slice(0, 80)}" is not a URL`;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'the URL must be http:// or https://';
      if (spec.url.length > MAX_URL_CHARS) return `the URL is longer than ${MAX_URL_CHARS} characters`;
      // The agent would hold it: a server that needs a credential runs beside the host instead.
      if (url.username !== '' || url.password !== '')
        return 'no credentials in the URL: the agent would hold them (a server that needs one runs beside the host)';
      return undefined;
    }
    case 'host':
      return hostServers.has(spec.name)
        ? undefined
        : `this NanoClaw runs no "${spec.name}" server beside it (it runs: ${[...hostServers].join(', ') || 'none'})`;
  }
}

/** The entry as one line, for the chat. */
export function describeSpec(spec: McpServerSpec): string {
  switch (spec.type) {
    case 'stdio':
      return `${spec.name}: stdio ${[spec.package, ...spec.args].join(' ')}`;
    case 'http':
    case 'sse':
      return `${spec.name}: ${spec.type} ${spec.url}`;
    case 'host':
      return `${spec.name}: runs beside the host, which keeps its credential`;
  }
}
