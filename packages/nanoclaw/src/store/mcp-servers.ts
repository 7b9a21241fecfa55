/**
 * The MCP servers of each group (migration 004): rows of a group folder, or of '*' (every group). A
 * group's own row wins over a '*' row of the same name. Rows from the main chat and the operator's are
 * kept apart: the operator's are replaced whole at each start, the chat's are never touched by that.
 */
import type { McpServerSpec } from '../mcp/server-spec.ts';
import { type Database, inTransaction } from './database.ts';

export const EVERY_GROUP = '*';

export type McpSource = 'chat' | 'operator';

export interface McpServerEntry {
  /** A group folder, or EVERY_GROUP. */
  group: string;
  spec: McpServerSpec;
  source: McpSource;
  addedAt: number;
}

interface Row {
  group_folder: string;
  name: string;
  type: McpServerSpec['type'];
  package: string | null;
  args: string;
  url: string | null;
  source: McpSource;
  added_at: number;
}

function specOf(row: Row): McpServerSpec {
  switch (row.type) {
    case 'stdio':
      return {
        name: row.name,
        type: 'stdio',
        package: row.package ?? '',
        args: JSON.parse(row.args) as string[],
      };
    case 'http':
    case 'sse':
      return { name: row.name, type: row.type, url: row.url ?? '' };
    case 'host':
      return { name: row.name, type: 'host' };
  }
}

const toEntry = (row: Row): McpServerEntry => ({
  group: row.group_folder,
  spec: specOf(row),
  source: row.source,
  addedAt: row.added_at,
});

export class McpServerStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** The servers a run of `folder` gets: its own, and every group's that it has none of the same name. */
  forGroup(folder: string): McpServerSpec[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM group_mcp_servers WHERE group_folder IN (?, ?)
         ORDER BY group_folder = ? DESC, name`,
      )
      .all(folder, EVERY_GROUP, folder) as unknown as Row[];
    const byName = new Map<string, McpServerSpec>();
    for (const row of rows) if (!byName.has(row.name)) byName.set(row.name, specOf(row));
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every entry, for `/mcp`. */
  list(): McpServerEntry[] {
    return (
      this.#db
        .prepare('SELECT * FROM group_mcp_servers ORDER BY group_folder, name')
        .all() as unknown as Row[]
    ).map(toEntry);
  }

  get(group: string, name: string): McpServerEntry | undefined {
    const row = this.#db
      .prepare('SELECT * FROM group_mcp_servers WHERE group_folder = ? AND name = ?')
      .get(group, name) as Row | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  /** Adds or replaces one of the chat's entries (an operator's entry of that name is never replaced here). */
  put(group: string, spec: McpServerSpec, now: number): void {
    this.#insert(
      group,
      spec,
      'chat',
      now,
      `ON CONFLICT (group_folder, name) DO UPDATE SET
      type = excluded.type, package = excluded.package, args = excluded.args, url = excluded.url,
      added_at = excluded.added_at WHERE group_mcp_servers.source = 'chat'`,
    );
  }

  remove(group: string, name: string): boolean {
    return (
      Number(
        this.#db.prepare('DELETE FROM group_mcp_servers WHERE group_folder = ? AND name = ?').run(group, name)
          .changes,
      ) > 0
    );
  }

  /** The operator's entries become exactly `entries`; a chat entry of the same group and name gives way. */
  replaceOperator(entries: Array<{ group: string; spec: McpServerSpec }>, now: number): void {
    inTransaction(this.#db, () => {
      this.#db.prepare("DELETE FROM group_mcp_servers WHERE source = 'operator'").run();
      for (const { group, spec } of entries)
        this.#insert(
          group,
          spec,
          'operator',
          now,
          `ON CONFLICT (group_folder, name) DO UPDATE SET
          type = excluded.type, package = excluded.package, args = excluded.args, url = excluded.url,
          source = 'operator', added_at = excluded.added_at`,
        );
    });
  }

  #insert(group: string, spec: McpServerSpec, source: McpSource, now: number, conflict: string): void {
    this.#db
      .prepare(
        `INSERT INTO group_mcp_servers (group_folder, name, type, package, args, url, source, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${conflict}`,
      )
      .run(
        group,
        spec.name,
        spec.type,
        spec.type === 'stdio' ? spec.package : null,
        JSON.stringify(spec.type === 'stdio' ? spec.args : []),
        spec.type === 'http' || spec.type === 'sse' ? spec.url : null,
        source,
        now,
      );
  }
}
