/** Finds the YAML node of a field for checks that run after parsing, so their messages carry a position. */
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import type { ParseContext, Path, PathSegment } from '../schema/field.ts';

/** Other spellings a key may have been written with (see the schema's aliases). */
const SPELLINGS: Record<string, string[]> = {
  min_idle: ['min_size'],
  file_idle_ttl: ['file_idle_ttl_ms'],
  affinity_timeout: ['affinity_timeout_ms'],
};

export interface Located {
  node: Node;
  /** The path as the file writes it, as far as it exists. */
  path: Path;
}

/** The node at `path`, or the deepest ancestor that exists. */
export function locate(root: Node, path: Path, context: ParseContext): Located {
  let node = context.resolve(root);
  const written: PathSegment[] = [];
  for (const segment of path) {
    const child = childOf(node, segment, context);
    if (child === undefined) return { node, path: [...written, ...path.slice(written.length)] };
    written.push(child.segment);
    node = child.node;
  }
  return { node, path: written };
}

function childOf(
  node: Node,
  segment: PathSegment,
  context: ParseContext,
): { node: Node; segment: PathSegment } | undefined {
  if (typeof segment === 'number') {
    const item = isSeq(node) ? (node.items[segment] as Node | undefined) : undefined;
    return item === undefined ? undefined : { node: context.resolve(item), segment };
  }
  if (!isMap(node)) return undefined;
  for (const spelling of [segment, ...(SPELLINGS[segment] ?? [])]) {
    const pair = (node.items as Pair<Node, Node | null>[]).find(
      (item) => isScalar(item.key) && item.key.value === spelling,
    );
    if (pair !== undefined) return { node: context.resolve(pair.value ?? pair.key), segment: spelling };
  }
  return undefined;
}

export function hasKey(root: Node, key: string, context: ParseContext): boolean {
  return childOf(context.resolve(root), key, context) !== undefined;
}
