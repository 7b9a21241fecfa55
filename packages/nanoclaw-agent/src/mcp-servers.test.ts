/**
 * A group's configured MCP servers as the SDK gets them: a stdio server runs its package's executable
 * from the image's modules (never fetched), a remote one goes to its URL, one beside the host through the
 * gateway socket with the run's token; what cannot be set up is left out and the model is told why.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentInput } from './input.ts';
import { runMcp } from './mcp-servers.ts';
import { workspacePaths } from './workspace.ts';

let root: string;
let modules: string;
let gateway: Server;

async function addPackage(name: string, manifest: object, files: Record<string, string>): Promise<void> {
  const dir = join(modules, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, ...manifest }));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nanoclaw-agent-mcp-'));
  modules = join(root, 'node_modules');
  await addPackage('@acme/files-mcp', { bin: { 'files-mcp': 'dist/cli.js' } }, { 'dist/cli.js': '' });
  await addPackage('native-mcp', { bin: 'bin/server' }, { 'bin/server': '#!/bin/sh\n' });
  await chmod(join(modules, 'native-mcp', 'bin', 'server'), 0o755);
  await addPackage('two-bins', { bin: { one: 'a.js', other: 'b.js' } }, {});
  const paths = workspacePaths(root);
  await mkdir(join(root, 'model'), { recursive: true });
  gateway = createServer();
  await new Promise<void>((resolve) => gateway.listen(paths.mcpSocket, resolve));
});

afterAll(async () => {
  gateway?.close();
  await rm(root, { recursive: true, force: true });
});

const input = (overrides: Partial<AgentInput>): AgentInput => ({
  prompt: 'hi',
  sessionId: null,
  group: 'main',
  chatJid: 'web:main',
  isMain: true,
  isScheduledTask: false,
  assistantName: 'Andy',
  modelToken: 'model-token',
  ...overrides,
});

test('each kind of server becomes its SDK config, its tools allowed', async () => {
  const mcp = await runMcp(
    input({
      mcpServers: [
        { name: 'files', type: 'stdio', package: '@acme/files-mcp', args: ['--root', '/workspace/group'] },
        { name: 'native', type: 'stdio', package: 'native-mcp', args: [] },
        { name: 'docs', type: 'http', url: 'https://mcp.example.com/mcp' },
        { name: 'events', type: 'sse', url: 'https://events.example.com/sse' },
        { name: 'gmail', type: 'host' },
      ],
      mcpToken: 'run-token-for-the-gateway',
    }),
    workspacePaths(root),
    () => undefined,
    modules,
  );
  try {
    expect(mcp.servers.files).toEqual({
      type: 'stdio',
      command: process.execPath,
      args: [join(modules, '@acme/files-mcp', 'dist/cli.js'), '--root', '/workspace/group'],
      alwaysLoad: true,
    });
    expect(mcp.servers.native).toEqual({
      type: 'stdio',
      command: join(modules, 'native-mcp', 'bin/server'),
      args: [],
      alwaysLoad: true,
    });
    expect(mcp.servers.docs).toEqual({ type: 'http', url: 'https://mcp.example.com/mcp', alwaysLoad: true });
    expect(mcp.servers.events).toEqual({
      type: 'sse',
      url: 'https://events.example.com/sse',
      alwaysLoad: true,
    });
    expect(mcp.servers.gmail).toEqual({
      type: 'http',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/gmail\/mcp$/),
      headers: { authorization: 'Bearer run-token-for-the-gateway' },
      alwaysLoad: true,
    });
    expect(mcp.allowedTools.sort()).toEqual(
      ['docs', 'events', 'files', 'gmail', 'nanoclaw', 'native'].map((name) => `mcp__${name}__*`),
    );
    expect(mcp.prompt).toEqual([]);
  } finally {
    mcp.close();
  }
});

test('a server that cannot be set up is left out, and the model is told why', async () => {
  const mcp = await runMcp(
    input({
      mcpServers: [
        { name: 'missing', type: 'stdio', package: 'not-in-the-image', args: [] },
        { name: 'ambiguous', type: 'stdio', package: 'two-bins', args: [] },
        { name: 'gmail', type: 'host' },
      ],
      mcpToken: null,
    }),
    workspacePaths(root),
    () => undefined,
    modules,
  );
  expect(Object.keys(mcp.servers)).toEqual([]);
  expect(mcp.allowedTools).toEqual(['mcp__nanoclaw__*']);
  expect(mcp.prompt).toEqual([
    'The MCP server "missing" configured for this group is not available in this run: package not-in-the-image is not in the agent image (its operator adds it to the image\'s packages).',
    'The MCP server "ambiguous" configured for this group is not available in this run: package two-bins has no single executable to run as an MCP server.',
    'The MCP server "gmail" configured for this group is not available in this run: the host gave this run no MCP token.',
  ]);
});
