/**
 * The operator's MCP servers: NANOCLAW_MCP_SERVERS (a workload's environment, a tenant's secret or the
 * .env), a JSON object of group folder (or "*" for every group) to server name to server:
 *
 *   {"*": {"docs": {"type": "http", "url": "https://mcp.example.com/mcp"}},
 *    "main": {"gmail": {"type": "host"}, "files": {"type": "stdio", "package": "some-mcp", "args": ["--ro"]}}}
 *
 * Written into the store at every start (store/mcp-servers.ts), replacing the operator's earlier ones.
 */
import { FOLDER_PATTERN } from '../layout.ts';
import { EVERY_GROUP } from '../store/mcp-servers.ts';
import { type McpServerSpec, specProblem } from './server-spec.ts';

export interface OperatorServer {
  group: string;
  spec: McpServerSpec;
}

/** The entries, or the problems with them (each naming its place, never a value that may be secret). */
export function parseOperatorServers(
  text: string,
  hostServers: ReadonlySet<string>,
): OperatorServer[] | string[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return [`is not JSON (${(error as Error).message})`];
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return ['must be a JSON object of group folder (or "*") to {name: server}'];
  const problems: string[] = [];
  const entries: OperatorServer[] = [];
  for (const [group, servers] of Object.entries(body)) {
    if (group !== EVERY_GROUP && !FOLDER_PATTERN.test(group)) {
      problems.push(`"${group}" is not a group folder or "*"`);
      continue;
    }
    if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
      problems.push(`${group}: expected an object of server name to server`);
      continue;
    }
    for (const [name, server] of Object.entries(servers)) {
      const spec = specOf(name, server);
      const problem = typeof spec === 'string' ? spec : specProblem(spec, hostServers);
      if (problem !== undefined) problems.push(`${group}.${name}: ${problem}`);
      else entries.push({ group, spec: spec as McpServerSpec });
    }
  }
  return problems.length > 0 ? problems : entries;
}

function specOf(name: string, value: unknown): McpServerSpec | string {
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  switch (fields.type) {
    case 'stdio': {
      const args = fields.args ?? [];
      if (typeof fields.package !== 'string') return 'a stdio server needs "package"';
      if (!Array.isArray(args) || args.some((arg) => typeof arg !== 'string'))
        return '"args" must be a list of strings';
      return { name, type: 'stdio', package: fields.package, args: args as string[] };
    }
    case 'http':
    case 'sse':
      if (typeof fields.url !== 'string') return `an ${fields.type} server needs "url"`;
      return { name, type: fields.type, url: fields.url };
    case 'host':
      return { name, type: 'host' };
    default:
      return '"type" must be stdio, http, sse or host';
  }
}
