/**
 * Which sync mapping governs a file of the state volume.
 *
 * A mapping covers `path` (a file, or a directory and everything below it), narrowed by `pattern` (a glob
 * matched against the file's path relative to `path`: `*` and `?` stay within one directory, `**` crosses
 * directories). Where mappings overlap, the most specific one (the longest `path`) that matches the file
 * governs it; one whose pattern does not match leaves the file to the next. So with the reference workload,
 * `store/auth_info_baileys/creds.json` follows `store/auth_info_baileys` (bidirectional, sync) and
 * `store/messages.db` follows `store` + `*.db*` (upload, copy); `store/other.txt` follows neither.
 */
import type { SyncMapping } from '@boilerhouse/spec';

export interface Governed {
  mapping: SyncMapping;
  /** Index of the mapping in the workload's list (stable, recorded in manifests). */
  index: number;
  /** Where the file goes in the sink: `sink_path` (default `path`) plus the rest of the file's path. */
  sinkPath: string;
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether `mapping.path` covers the state-relative `file`, and what remains of the path below it. */
function below(mappingPath: string, file: string): string | undefined {
  if (mappingPath === '.') return file;
  if (file === mappingPath) return '';
  return file.startsWith(`${mappingPath}/`) ? file.slice(mappingPath.length + 1) : undefined;
}

export class MappingSet {
  readonly #mappings: { mapping: SyncMapping; index: number; pattern?: RegExp }[];

  constructor(mappings: readonly SyncMapping[]) {
    this.#mappings = mappings
      .map((mapping, index) => ({
        mapping,
        index,
        ...(mapping.pattern === undefined ? {} : { pattern: globToRegExp(mapping.pattern) }),
      }))
      // Most specific first: deeper paths before shallower ones; the whole volume (".") last.
      .sort((a, b) => depth(b.mapping.path) - depth(a.mapping.path) || a.index - b.index);
  }

  /** The mapping that governs `file` (relative to the state volume), if any. */
  govern(file: string): Governed | undefined {
    for (const { mapping, index, pattern } of this.#mappings) {
      const rest = below(mapping.path, file);
      if (rest === undefined) continue;
      const relative = rest === '' ? (file.split('/').pop() ?? file) : rest;
      if (pattern !== undefined && !pattern.test(relative)) continue;
      const base = mapping.sinkPath ?? mapping.path;
      const sinkPath = rest === '' ? base : base === '.' ? rest : `${base}/${rest}`;
      return { mapping, index, sinkPath };
    }
    return undefined;
  }

  /** The state-volume directories to walk when saving: each mapping's path, without ones inside others. */
  roots(): string[] {
    const paths = [...new Set(this.#mappings.map(({ mapping }) => mapping.path))].sort();
    return paths.filter((path) => !paths.some((other) => other !== path && below(other, path) !== undefined));
  }

  /**
   * Where a saved file goes back in the state volume: the most specific mapping whose sink side covers its
   * sink path. Undefined when no current mapping restores it (then it stays in the sink only).
   */
  locate(sinkPath: string): { mapping: SyncMapping; path: string } | undefined {
    const candidates = [...this.#mappings].sort(
      (a, b) => depth(b.mapping.sinkPath ?? b.mapping.path) - depth(a.mapping.sinkPath ?? a.mapping.path),
    );
    for (const { mapping, pattern } of candidates) {
      const rest = below(mapping.sinkPath ?? mapping.path, sinkPath);
      if (rest === undefined) continue;
      const relative = rest === '' ? (sinkPath.split('/').pop() ?? sinkPath) : rest;
      if (pattern !== undefined && !pattern.test(relative)) continue;
      const path = rest === '' ? mapping.path : mapping.path === '.' ? rest : `${mapping.path}/${rest}`;
      return { mapping, path };
    }
    return undefined;
  }
}

function depth(path: string): number {
  return path === '.' ? 0 : path.split('/').length;
}
