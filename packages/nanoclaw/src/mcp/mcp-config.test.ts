/**
 * Each group's MCP servers: what the main chat's /mcp adds and removes, what the operator's
 * NANOCLAW_MCP_SERVERS sets (and the chat cannot change), and what a run of each group is given.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { MAIN_FOLDER } from '../layout.ts';
import { type Database, openDatabase } from '../store/database.ts';
import { GroupRegistry } from '../store/groups.ts';
import { McpServerStore } from '../store/mcp-servers.ts';
import { tempHome } from '../testing/temp-home.ts';
import { type McpCommandDeps, mcpCommand } from './commands.ts';
import { HOST_SERVER_NAMES } from './gmail.ts';
import { parseOperatorServers } from './operator-servers.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let db: Database;
let store: McpServerStore;
let deps: McpCommandDeps;
const gmailUnavailable: { why: string | undefined } = { why: undefined };

beforeEach(async () => {
  home = await tempHome('nanoclaw-mcp-');
  db = openDatabase(':memory:');
  store = new McpServerStore(db);
  const groups = new GroupRegistry(`${home.path}/registered_groups.json`);
  groups.register('web:main', { name: 'Main', folder: MAIN_FOLDER, addedAt: '2026-01-01T00:00:00Z' });
  groups.register('tg:-100200', { name: 'Family', folder: 'family', addedAt: '2026-01-01T00:00:00Z' });
  deps = {
    mcpServers: store,
    groups,
    hostServers: { names: HOST_SERVER_NAMES, unavailable: () => gmailUnavailable.why },
    now: () => 1_000,
  };
});

afterEach(async () => {
  db.close();
  await home.remove();
});

test('/mcp adds stdio, http, sse and host servers to a group or to every group, and removes them', () => {
  expect(
    mcpCommand(deps, [
      'add',
      'tg:-100200',
      'files',
      'stdio',
      '@acme/files-mcp',
      '--root',
      '/workspace/group',
    ]),
  ).toBe('tg:-100200 has files: stdio @acme/files-mcp --root /workspace/group, from its next run.');
  expect(mcpCommand(deps, ['add', '*', 'docs', 'http', 'https://mcp.example.com/mcp'])).toBe(
    'every group has docs: http https://mcp.example.com/mcp, from its next run.',
  );
  expect(mcpCommand(deps, ['add', 'web:main', 'events', 'sse', 'https://events.example.com/sse'])).toContain(
    'web:main has events: sse',
  );
  expect(mcpCommand(deps, ['add', 'web:main', 'gmail'])).toBe(
    'web:main has gmail: runs beside the host, which keeps its credential, from its next run.',
  );

  expect(store.forGroup('family')).toEqual([
    { name: 'docs', type: 'http', url: 'https://mcp.example.com/mcp' },
    { name: 'files', type: 'stdio', package: '@acme/files-mcp', args: ['--root', '/workspace/group'] },
  ]);
  expect(store.forGroup(MAIN_FOLDER).map((spec) => spec.name)).toEqual(['docs', 'events', 'gmail']);

  // A group's own server wins over every group's of the same name.
  mcpCommand(deps, ['add', 'tg:-100200', 'docs', 'http', 'https://family-docs.example.com/mcp']);
  expect(store.forGroup('family').find((spec) => spec.name === 'docs')).toEqual({
    name: 'docs',
    type: 'http',
    url: 'https://family-docs.example.com/mcp',
  });

  expect(mcpCommand(deps, ['remove', 'tg:-100200', 'files'])).toBe(
    'Removed "files" from tg:-100200: its next run goes without it.',
  );
  expect(mcpCommand(deps, ['remove', 'tg:-100200', 'files'])).toBe(
    'tg:-100200 has no MCP server "files" of its own (see /mcp).',
  );
  const listing = mcpCommand(deps, []);
  expect(listing).toContain('- every group: docs: http https://mcp.example.com/mcp');
  expect(listing).toContain('- Family (tg:-100200): docs: http https://family-docs.example.com/mcp');
  expect(listing).toContain('- Main (web:main): gmail: runs beside the host');
});

test('/mcp refuses what an agent must not get: credentials in a URL, reserved names, unknown host servers and chats', () => {
  expect(
    mcpCommand(deps, ['add', 'web:main', 'api', 'http', 'https://user:hunter2@api.example.com/mcp']),
  ).toBe(
    'Cannot add "api": no credentials in the URL: the agent would hold them (a server that needs one runs beside the host).',
  );
  expect(mcpCommand(deps, ['add', 'web:main', 'browser', 'stdio', 'some-browser'])).toBe(
    'Cannot add "browser": "browser" is the agent\'s own; choose another name.',
  );
  expect(mcpCommand(deps, ['add', 'web:main', 'calendar', 'host'])).toBe(
    'Cannot add "calendar": this NanoClaw runs no "calendar" server beside it (it runs: gmail).',
  );
  expect(mcpCommand(deps, ['add', 'web:main', 'x', 'stdio', '../../bin/sh'])).toBe(
    'Cannot add "x": "../../bin/sh" is not an npm package name.',
  );
  expect(mcpCommand(deps, ['add', 'wa:123', 'docs', 'http', 'https://mcp.example.com'])).toBe(
    'wa:123 is not registered (see /groups), nor * for every group.',
  );
  expect(mcpCommand(deps, ['add', 'web:main', 'docs', 'ftp'])).toContain('Usage:');
  expect(store.list()).toEqual([]);

  gmailUnavailable.why = 'Gmail is not set up on this NanoClaw';
  expect(mcpCommand(deps, ['add', 'web:main', 'gmail'])).toBe(
    'web:main has gmail: runs beside the host, which keeps its credential, from its next run. Not yet usable: Gmail is not set up on this NanoClaw.',
  );
  gmailUnavailable.why = undefined;
});

test("the operator's servers are written in whole at each start, and the chat can neither change nor remove them", () => {
  const config = loadConfig({
    NANOCLAW_HOME: home.path,
    NANOCLAW_MCP_SERVERS: JSON.stringify({
      '*': { docs: { type: 'http', url: 'https://mcp.example.com/mcp' } },
      main: { gmail: { type: 'host' } },
    }),
  });
  store.replaceOperator(config.mcpServers, 1);
  mcpCommand(deps, ['add', 'tg:-100200', 'files', 'stdio', 'files-mcp']);
  expect(mcpCommand(deps, ['remove', '*', 'docs'])).toBe(
    '"docs" of every group is the operator\'s (NANOCLAW_MCP_SERVERS): it goes when they take it out.',
  );
  expect(mcpCommand(deps, ['add', '*', 'docs', 'sse', 'https://other.example.com'])).toBe(
    '"docs" of every group is the operator\'s (NANOCLAW_MCP_SERVERS); choose another name.',
  );
  expect(mcpCommand(deps, [])).toContain('- every group: docs: http https://mcp.example.com/mcp [operator]');

  // The next start's setting replaces the operator's, and leaves the chat's alone.
  store.replaceOperator(
    [{ group: 'family', spec: { name: 'wiki', type: 'sse', url: 'https://wiki.example.com/sse' } }],
    2,
  );
  expect(store.forGroup('family').map((spec) => spec.name)).toEqual(['files', 'wiki']);
  expect(store.forGroup(MAIN_FOLDER)).toEqual([]);
});

test('a bad NANOCLAW_MCP_SERVERS stops the start, naming each entry that is wrong', () => {
  expect(() =>
    loadConfig({
      NANOCLAW_HOME: home.path,
      NANOCLAW_MCP_SERVERS: JSON.stringify({
        main: { gmail: { type: 'host' }, calendar: { type: 'host' }, api: { type: 'http' } },
        'Not A Folder': {},
      }),
    }),
  ).toThrow(
    /NANOCLAW_MCP_SERVERS main\.calendar: this NanoClaw runs no "calendar" server beside it[\s\S]*NANOCLAW_MCP_SERVERS main\.api: an http server needs "url"[\s\S]*NANOCLAW_MCP_SERVERS "Not A Folder" is not a group folder or "\*"/,
  );
  expect(parseOperatorServers('{"main": ', HOST_SERVER_NAMES)).toEqual([
    expect.stringMatching(/^is not JSON/),
  ]);
});
