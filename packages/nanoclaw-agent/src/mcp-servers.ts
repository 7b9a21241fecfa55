/**
 * The MCP servers of a run beyond `nanoclaw`, as the SDK's `mcpServers` option takes them, with their
 * tools allowed (`mcp__<name>__*`): the browser (browser.ts) when the image has one, and the group's
 * configured servers (mcp-config.ts). A `stdio` server is a package of the agent image (nothing is
 * fetched at run time); `http` and `sse` go to their URL; a `host` server goes through the host's MCP
 * gateway on /workspace/model/mcp.sock (a loopback bridge, as for the model) with the run's `mcpToken` as
 * its bearer: its credential stays with the host. Each is loaded with the session, so its tools are
 * there from the first turn. A server that cannot be set up is left out, and the model is told why.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { McpServerConfig } from '@anthropic-ai/claude-agent-sdk';
import { browserPrompt, browserServer } from './browser.ts';
import type { AgentInput } from './input.ts';
import { type AgentMcpServer, BROWSER_SERVER_NAME } from './mcp-config.ts';
import { type SocketBridge, startSocketBridge } from './socket-bridge.ts';
import type { WorkspacePaths } from './workspace.ts';

/** Where the image keeps the packages a stdio server may run (staged by scripts/setup.sh). */
export const IMAGE_MODULES = join(import.meta.dirname, '..', 'node_modules');

export interface RunMcp {
  servers: Record<string, McpServerConfig>;
  /** `mcp__<name>__*` of each server, and of `nanoclaw`. */
  allowedTools: string[];
  /** For the system prompt: the browser, and the servers left out with why. */
  prompt: string[];
  close(): void;
}

/** The command that runs a package's executable (its only `bin`, or the one named like the package). */
export async function packageCommand(
  modulesDir: string,
  name: string,
): Promise<{ command: string; args: string[] } | string> {
  const dir = join(modulesDir, name);
  let manifest: { bin?: string | Record<string, string> };
  try {
    manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return `package ${name} is not in the agent image (its operator adds it to the image's packages)`;
    throw error;
  }
  const bins = typeof manifest.bin === 'string' ? { [name]: manifest.bin } : (manifest.bin ?? {});
  const entries = Object.entries(bins);
  const bin = entries.length === 1 ? entries[0]?.[1] : bins[name.split('/').pop() ?? name];
  if (bin === undefined) return `package ${name} has no single executable to run as an MCP server`;
  const path = join(dir, bin);
  // Node runs a script whatever its mode bits; anything else must be executable itself.
  if (
    /\.[cm]?js$/.test(bin) ||
    (await readFile(path, 'utf8').catch(() => '')).startsWith('#!/usr/bin/env node')
  )
    return { command: process.execPath, args: [path] };
  return { command: path, args: [] };
}

export async function runMcp(
  input: AgentInput,
  paths: WorkspacePaths,
  log: (message: string) => void,
  modulesDir = IMAGE_MODULES,
): Promise<RunMcp> {
  const servers: Record<string, McpServerConfig> = {};
  const prompt: string[] = [];
  let bridge: SocketBridge | undefined;
  const leftOut = (server: AgentMcpServer, why: string) => {
    log(`MCP server ${server.name} left out: ${why}`);
    prompt.push(
      `The MCP server "${server.name}" configured for this group is not available in this run: ${why}.`,
    );
  };

  const browser = await browserServer(modulesDir, paths.group, log);
  if (browser !== undefined) {
    servers[BROWSER_SERVER_NAME] = { ...browser.config, alwaysLoad: true };
    prompt.push(browserPrompt(paths.group));
  }
  for (const server of input.mcpServers ?? []) {
    if (server.type === 'stdio') {
      const found = await packageCommand(modulesDir, server.package);
      if (typeof found === 'string') leftOut(server, found);
      else
        servers[server.name] = {
          type: 'stdio',
          command: found.command,
          args: [...found.args, ...server.args],
          alwaysLoad: true,
        };
    } else if (server.type === 'host') {
      if (!input.mcpToken) {
        leftOut(server, 'the host gave this run no MCP token');
        continue;
      }
      const socket = await stat(paths.mcpSocket).catch(() => undefined);
      if (!socket?.isSocket()) {
        leftOut(server, `the host's MCP gateway socket ${paths.mcpSocket} is missing`);
        continue;
      }
      bridge ??= await startSocketBridge(paths.mcpSocket, log);
      servers[server.name] = {
        type: 'http',
        url: `${bridge.url}/${server.name}/mcp`,
        headers: { authorization: `Bearer ${input.mcpToken}` },
        alwaysLoad: true,
      };
    } else servers[server.name] = { type: server.type, url: server.url, alwaysLoad: true };
  }
  return {
    servers,
    allowedTools: ['nanoclaw', ...Object.keys(servers)].map((name) => `mcp__${name}__*`),
    prompt,
    close: () => {
      bridge?.close();
      browser?.close();
    },
  };
}
