/**
 * `/mcp`, the main chat's hand on each group's MCP servers (the operator's come from NANOCLAW_MCP_SERVERS
 * and are not changed here). A change reaches a group at its next run; a server beside the host taken
 * away is refused at the gateway at once.
 *
 *   /mcp                                                  every group's servers
 *   /mcp add <chat id|*> <name> stdio <package> [args…]   a package of the agent image, run in its container
 *   /mcp add <chat id|*> <name> http|sse <url>            a remote server the agent calls
 *   /mcp add <chat id|*> gmail                            a server that runs beside the host (its credential stays here)
 *   /mcp remove <chat id|*> <name>
 */
import { FOLDER_PATTERN } from '../layout.ts';
import type { GroupRegistry } from '../store/groups.ts';
import { EVERY_GROUP, type McpServerStore } from '../store/mcp-servers.ts';
import { describeSpec, type McpServerSpec, specProblem } from './server-spec.ts';

export interface McpCommandDeps {
  mcpServers: McpServerStore;
  groups: GroupRegistry;
  /** The servers this host can run beside it, and why one cannot now. */
  hostServers: { names: ReadonlySet<string>; unavailable(name: string): string | undefined };
  now(): number;
}

const USAGE = [
  'Usage:',
  '/mcp add <chat id|*> <name> stdio <package> [args...]: a package of the agent image',
  '/mcp add <chat id|*> <name> http|sse <url>: a remote server',
  '/mcp add <chat id|*> gmail: Gmail, run beside the host (/gmail connects it)',
  '/mcp remove <chat id|*> <name>',
  '(* is every group; see /groups for chat ids)',
].join('\n');

export function mcpCommand(deps: McpCommandDeps, args: string[]): string {
  const [verb, target, name, ...rest] = args;
  if (verb === undefined) return describeAll(deps);
  if ((verb !== 'add' && verb !== 'remove') || target === undefined || name === undefined) return USAGE;
  const group = groupOf(deps, target);
  if (group === undefined) return `${target} is not registered (see /groups), nor * for every group.`;
  const where = target === EVERY_GROUP ? 'every group' : target;
  if (verb === 'remove') {
    if (rest.length > 0) return USAGE;
    const entry = deps.mcpServers.get(group, name);
    if (entry === undefined) return `${where} has no MCP server "${name}" of its own (see /mcp).`;
    if (entry.source === 'operator')
      return `"${name}" of ${where} is the operator's (NANOCLAW_MCP_SERVERS): it goes when they take it out.`;
    deps.mcpServers.remove(group, name);
    return `Removed "${name}" from ${where}: its next run goes without it.`;
  }
  const spec = specFrom(name, rest, deps.hostServers.names);
  if (typeof spec === 'string') return spec;
  const problem = specProblem(spec, deps.hostServers.names);
  if (problem !== undefined) return `Cannot add "${name}": ${problem}.`;
  if (deps.mcpServers.get(group, name)?.source === 'operator')
    return `"${name}" of ${where} is the operator's (NANOCLAW_MCP_SERVERS); choose another name.`;
  deps.mcpServers.put(group, spec, deps.now());
  const note = spec.type === 'host' ? deps.hostServers.unavailable(spec.name) : undefined;
  return `${where} has ${describeSpec(spec)}, from its next run.${note === undefined ? '' : ` Not yet usable: ${note}.`}`;
}

/** The folder (or *) a chat id names. */
function groupOf(deps: McpCommandDeps, target: string): string | undefined {
  if (target === EVERY_GROUP) return EVERY_GROUP;
  const folder = deps.groups.get(target)?.folder;
  return folder !== undefined && FOLDER_PATTERN.test(folder) ? folder : undefined;
}

function specFrom(name: string, rest: string[], hostServers: ReadonlySet<string>): McpServerSpec | string {
  const [type, first, ...more] = rest;
  if (type === undefined && hostServers.has(name)) return { name, type: 'host' };
  if (type === 'host' && first === undefined) return { name, type: 'host' };
  if (type === 'stdio' && first !== undefined) return { name, type: 'stdio', package: first, args: more };
  if ((type === 'http' || type === 'sse') && first !== undefined && more.length === 0)
    return { name, type, url: first };
  return USAGE;
}

function describeAll(deps: McpCommandDeps): string {
  const entries = deps.mcpServers.list();
  const folders = new Map(
    deps.groups.entries().map(([jid, group]) => [group.folder, `${group.name} (${jid})`]),
  );
  const lines = entries.map((entry) => {
    const where =
      entry.group === EVERY_GROUP ? 'every group' : (folders.get(entry.group) ?? `folder ${entry.group}`);
    const unusable = entry.spec.type === 'host' ? deps.hostServers.unavailable(entry.spec.name) : undefined;
    return `- ${where}: ${describeSpec(entry.spec)}${entry.source === 'operator' ? ' [operator]' : ''}${unusable === undefined ? '' : ` [not usable: ${unusable}]`}`;
  });
  return [
    'MCP servers (every agent also has its nanoclaw tools and a browser):',
    ...(lines.length > 0 ? lines : ['- none configured']),
    '',
    USAGE,
  ].join('\n');
}
