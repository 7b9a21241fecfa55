/**
 * Decodes a JSON body the way the engine does (Go's encoding/json into its structs), so that the policy
 * judges the value the engine would act on:
 *
 * - struct field names match case-insensitively, with Unicode simple folding: `privileged`, `PRIVILEGED`
 *   and `ſecurityOpt` (long s) all reach their field; an exact spelling wins over a folded one;
 * - duplicates apply in order: the last scalar wins, a second object for a struct or a map merges into
 *   the first, a second array decodes element by element into the first (struct elements merge);
 * - null resets pointers, slices, maps and interfaces, and leaves everything else as it was;
 * - integers are written without fraction or exponent, and must fit their Go type;
 * - keys the struct does not have are dropped (Go ignores them; the proxy never passes them on).
 *
 * Decoded values are plain JS: a struct is an object holding the fields that were set (absent = Go's zero
 * value), a slice or map that is nil is null or absent.
 */
import type { JsonNode } from './go-json.ts';
import { plain } from './go-json.ts';

export type GoType =
  | { kind: 'bool' }
  | { kind: 'int'; bits: 16 | 32 | 64; unsigned?: boolean }
  | { kind: 'string' }
  /** Docker's StrSlice: a string or an array of strings. */
  | { kind: 'strslice' }
  | { kind: 'slice'; of: GoType }
  | { kind: 'array'; of: GoType; length: number }
  | { kind: 'map'; of: GoType }
  | { kind: 'struct'; fields: Record<string, GoType> }
  | { kind: 'pointer'; to: GoType }
  | { kind: 'any' };

export type GoStruct = Record<string, unknown>;

export class GoDecodeError extends Error {
  constructor(path: string, message: string) {
    super(`${path || 'body'}: ${message}`);
    this.name = 'GoDecodeError';
  }
}

export const go = {
  bool: { kind: 'bool' },
  int: { kind: 'int', bits: 64 },
  string: { kind: 'string' },
  strslice: { kind: 'strslice' },
  any: { kind: 'any' },
  strings: { kind: 'slice', of: { kind: 'string' } },
  stringMap: { kind: 'map', of: { kind: 'string' } },
  slice: (of: GoType): GoType => ({ kind: 'slice', of }),
  map: (of: GoType): GoType => ({ kind: 'map', of }),
  pointer: (to: GoType): GoType => ({ kind: 'pointer', to }),
  struct: (fields: Record<string, GoType>): GoType => ({ kind: 'struct', fields }),
} as const satisfies Record<string, GoType | ((...args: never[]) => GoType)>;

/** Go's fold for field names: ASCII case, plus the two non-ASCII letters that fold to ASCII (ſ, K). */
export function foldName(name: string): string {
  return name
    .replace(/\u017f/g, 's')
    .replace(/\u212a/g, 'k')
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export function decode(node: JsonNode, type: GoType, existing: unknown = undefined, path = ''): unknown {
  if (node.type === 'null') {
    return ['pointer', 'slice', 'map', 'any', 'strslice'].includes(type.kind) ? null : existing;
  }
  switch (type.kind) {
    case 'bool':
      if (node.type !== 'bool') throw mismatch(path, 'a boolean', node);
      return node.value;
    case 'int':
      return integer(node, type, path);
    case 'string':
      if (node.type !== 'string') throw mismatch(path, 'a string', node);
      return node.value;
    case 'strslice':
      if (node.type === 'string') return [node.value];
      if (node.type !== 'array') throw mismatch(path, 'a string or an array of strings', node);
      return node.items.map((item, index) => decode(item, go.string, undefined, `${path}[${index}]`));
    case 'slice':
    case 'array': {
      if (node.type !== 'array') throw mismatch(path, 'an array', node);
      const before = Array.isArray(existing) ? existing : [];
      const length = type.kind === 'array' ? type.length : node.items.length;
      const out: unknown[] = [];
      for (let index = 0; index < length; index++) {
        const item = node.items[index];
        // An array type takes its first `length` items and zeroes the rest; extra items are skipped.
        out.push(item === undefined ? undefined : decode(item, type.of, before[index], `${path}[${index}]`));
      }
      return out;
    }
    case 'map': {
      if (node.type !== 'object') throw mismatch(path, 'an object', node);
      const out: Record<string, unknown> = Object.assign(Object.create(null), existing ?? {});
      // Each key decodes into a fresh value: a map's elements never merge.
      for (const [key, child] of node.entries)
        out[key] = decode(child, type.of, undefined, `${path}[${JSON.stringify(key)}]`);
      return out;
    }
    case 'struct': {
      if (node.type !== 'object') throw mismatch(path, 'an object', node);
      const out: GoStruct = Object.assign(Object.create(null), existing ?? {});
      for (const [key, child] of node.entries) {
        const field = fieldFor(type.fields, key);
        if (field === undefined) continue;
        out[field] = decode(
          child,
          type.fields[field] as GoType,
          out[field],
          path ? `${path}.${field}` : field,
        );
      }
      return out;
    }
    case 'pointer':
      return decode(node, type.to, existing ?? undefined, path);
    case 'any':
      return plain(node);
  }
}

/** The struct field a key reaches: the exact spelling first, then the first field it folds to. */
function fieldFor(fields: Record<string, GoType>, key: string): string | undefined {
  if (Object.hasOwn(fields, key)) return key;
  const folded = foldName(key);
  return Object.keys(fields).find((field) => foldName(field) === folded);
}

function integer(node: JsonNode, type: Extract<GoType, { kind: 'int' }>, path: string): number {
  if (node.type !== 'number' || !/^-?(0|[1-9]\d*)$/.test(node.raw)) {
    throw mismatch(path, `an integer`, node);
  }
  const value = BigInt(node.raw);
  const [min, max] = type.unsigned
    ? [0n, 2n ** BigInt(type.bits) - 1n]
    : [-(2n ** BigInt(type.bits - 1)), 2n ** BigInt(type.bits - 1) - 1n];
  if (value < min || value > max)
    throw new GoDecodeError(path, `${node.raw} does not fit (${min} to ${max})`);
  // Beyond 2^53 a number would lose digits here; no setting the proxy passes on needs one that large.
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new GoDecodeError(path, `${node.raw} is larger than this socket accepts`);
  }
  return Number(value);
}

const NODE_NAMES: Record<JsonNode['type'], string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  bool: 'a boolean',
  null: 'null',
};

function mismatch(path: string, expected: string, node: JsonNode): GoDecodeError {
  const got = node.type === 'number' ? `the number ${node.raw}` : NODE_NAMES[node.type];
  return new GoDecodeError(path, `expected ${expected}, got ${got}`);
}
