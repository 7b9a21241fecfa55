/**
 * Mappings with a fixed set of keys. Strict: an unknown key is an error naming the closest known key.
 * The typed result uses camelCase keys (`min_idle` -> `minIdle`).
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { closestKey } from '../suggest.ts';
import { type Field, INVALID, mismatch, nullValueAt, type ParseContext, type Path } from './field.ts';
import type { JsonSchema } from './json-schema.ts';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** One key of a mapping. `Present` says whether the typed result always has it. */
export interface Prop<T, Present extends boolean> {
  readonly field: Field<T>;
  readonly description: string;
  readonly present: Present;
  readonly required: boolean;
  readonly default?: T;
}

export function required<T>(field: Field<T>, description: string): Prop<T, true> {
  return { field, description, present: true, required: true };
}

export function optional<T>(field: Field<T>, description: string): Prop<T, false> {
  return { field, description, present: false, required: false };
}

export function defaulted<T>(field: Field<T>, value: T, description: string): Prop<T, true> {
  return { field, description, present: true, required: false, default: value };
}

type Props = Record<string, Prop<unknown, boolean>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type PropValue<P> = P extends Prop<infer T, boolean> ? T : never;

export type ObjectValue<P extends Props> = Simplify<
  { [K in keyof P & string as P[K] extends Prop<unknown, true> ? CamelCase<K> : never]: PropValue<P[K]> } & {
    [K in keyof P & string as P[K] extends Prop<unknown, true> ? never : CamelCase<K>]?: PropValue<P[K]>;
  }
>;

export interface ObjectOptions {
  /** What the mapping is, for messages: "a sink mapping". */
  expected?: string;
  description?: string;
  /** Other spellings accepted for a key, e.g. compose's: `{ min_size: 'min_idle' }`. */
  aliases?: Record<string, string>;
  /** Keys that are recognised but refused, with the reason. */
  refused?: Record<string, string>;
  /** Accept and ignore compose extension keys (`x-...`). */
  extensions?: boolean;
}

interface Entry {
  key: string;
  keyNode: Node;
  valueNode: Node;
}

export function object<P extends Props>(props: P, options: ObjectOptions = {}): Field<ObjectValue<P>> {
  const expected = options.expected ?? 'a mapping';
  const aliases = options.aliases ?? {};
  return {
    expected,
    jsonSchema() {
      const properties: Record<string, JsonSchema> = {};
      const requiredKeys: string[] = [];
      for (const [key, prop] of Object.entries(props)) {
        properties[key] = describeProp(prop);
        if (prop.required) requiredKeys.push(key);
      }
      for (const [alias, canonical] of Object.entries(aliases)) {
        const prop = props[canonical] as Prop<unknown, boolean>;
        properties[alias] = {
          ...describeProp(prop),
          description: `Alias of \`${canonical}\`. ${prop.description}`,
        };
      }
      const schema: JsonSchema = { type: 'object', properties, additionalProperties: false };
      if (options.description) schema.description = options.description;
      if (requiredKeys.length > 0) schema.required = requiredKeys;
      if (options.extensions) schema.patternProperties = { '^x-': {} };
      return schema;
    },
    parse(node, path, context) {
      const map = context.resolve(node);
      if (!isMap(map)) return mismatch(map, path, context, expected);
      let valid = true;
      const found = new Map<string, Entry>();
      for (const entry of collectEntries(map, path, context)) {
        if (entry === INVALID) {
          valid = false;
          continue;
        }
        const at = [...path, entry.key];
        if (options.extensions && entry.key.startsWith('x-')) continue;
        const refusal = options.refused?.[entry.key];
        if (refusal !== undefined) {
          valid = context.error(entry.keyNode, at, refusal) !== INVALID;
          continue;
        }
        const canonical = aliases[entry.key] ?? entry.key;
        if (!Object.hasOwn(props, canonical)) {
          const suggestion = closestKey(entry.key, [...Object.keys(props), ...Object.keys(aliases)]);
          const hint = suggestion
            ? `did you mean "${suggestion}"?`
            : `expected one of: ${Object.keys(props).join(', ')}`;
          valid = context.error(entry.keyNode, at, `unknown key "${entry.key}"; ${hint}`) !== INVALID;
          continue;
        }
        const earlier = found.get(canonical);
        if (earlier !== undefined) {
          const message = `"${entry.key}" and "${earlier.key}" are the same setting; keep one`;
          valid = context.error(entry.keyNode, at, message) !== INVALID;
          continue;
        }
        found.set(canonical, entry);
      }
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(props)) {
        const entry = found.get(key);
        if (entry === undefined) {
          if (prop.required) {
            context.error(map, [...path, key], `required key is missing; expected ${prop.field.expected}`);
            valid = false;
          } else if (prop.present) {
            out[camelCase(key)] = structuredClone(prop.default);
          }
          continue;
        }
        const value = prop.field.parse(entry.valueNode, [...path, entry.key], context);
        if (value === INVALID) valid = false;
        else out[camelCase(key)] = value;
      }
      return valid ? (out as ObjectValue<P>) : INVALID;
    },
  };
}

function describeProp(prop: Prop<unknown, boolean>): JsonSchema {
  const schema = prop.field.jsonSchema();
  const description = schema.description ? `${prop.description} ${schema.description}` : prop.description;
  const described: JsonSchema = { ...schema, description };
  if (prop.default !== undefined) described.default = prop.default;
  return described;
}

/**
 * The key/value entries of a mapping, with YAML merge keys (`<<: *base`) expanded. Keys written in the
 * mapping itself win over merged ones, as YAML specifies.
 */
function collectEntries(map: YAMLMap, path: Path, context: ParseContext): (Entry | typeof INVALID)[] {
  const merged = new Map<string, Entry>();
  const own: (Entry | typeof INVALID)[] = [];
  for (const pair of map.items as Pair<Node, Node | null>[]) {
    const keyNode = pair.key;
    if (isScalar(keyNode) && keyNode.source === '<<') {
      for (const source of mergeSources(pair.value, context)) {
        if (source === INVALID) {
          own.push(
            context.error(
              pair.value ?? keyNode,
              path,
              'a merge key (<<) must refer to a mapping or a list of mappings',
            ),
          );
          continue;
        }
        for (const entry of collectEntries(source, path, context)) {
          if (entry !== INVALID && !merged.has(entry.key)) merged.set(entry.key, entry);
        }
      }
      continue;
    }
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
      own.push(context.error(keyNode, path, 'keys must be plain strings'));
      continue;
    }
    own.push({ key: keyNode.value, keyNode, valueNode: pair.value ?? nullValueAt(keyNode) });
  }
  const ownKeys = new Set(own.flatMap((entry) => (entry === INVALID ? [] : [entry.key])));
  return [...[...merged.values()].filter((entry) => !ownKeys.has(entry.key)), ...own];
}

function mergeSources(value: Node | null, context: ParseContext): (YAMLMap | typeof INVALID)[] {
  if (value === null) return [INVALID];
  const resolved = context.resolve(value);
  if (isMap(resolved)) return [resolved];
  if (isSeq(resolved)) {
    return (resolved.items as Node[]).map((item) => {
      const source = context.resolve(item);
      return isMap(source) ? source : INVALID;
    });
  }
  return [INVALID];
}
