/** Lists, free-form mappings, and mappings whose shape depends on a `type` key. */
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { closestKey } from '../suggest.ts';
import { describeNode, type Field, INVALID, mismatch, nullValueAt } from './field.ts';
import type { JsonSchema } from './json-schema.ts';

export function list<T>(item: Field<T>, options: { minItems?: number; expected?: string } = {}): Field<T[]> {
  const expected = options.expected ?? `a list (each item ${item.expected})`;
  return {
    expected,
    jsonSchema() {
      const schema: JsonSchema = { type: 'array', items: item.jsonSchema() };
      if (options.minItems !== undefined) schema.minItems = options.minItems;
      return schema;
    },
    parse(node, path, context) {
      const seq = context.resolve(node);
      if (!isSeq(seq)) return mismatch(seq, path, context, expected);
      if (options.minItems !== undefined && seq.items.length < options.minItems) {
        return context.error(
          seq,
          path,
          `expected at least ${options.minItems} item(s), got ${seq.items.length}`,
        );
      }
      const out: T[] = [];
      let valid = true;
      (seq.items as Node[]).forEach((child, index) => {
        const value = item.parse(child, [...path, index], context);
        if (value === INVALID) valid = false;
        else out.push(value);
      });
      return valid ? out : INVALID;
    },
  };
}

/** A mapping with keys chosen by the user (environment variables, labels). */
export function record<T>(
  value: Field<T>,
  options: { keyPattern?: RegExp; keyHint?: string; expected?: string } = {},
): Field<Record<string, T>> {
  const expected = options.expected ?? 'a mapping';
  return {
    expected,
    jsonSchema() {
      if (options.keyPattern === undefined)
        return { type: 'object', additionalProperties: value.jsonSchema() };
      return {
        type: 'object',
        patternProperties: { [options.keyPattern.source]: value.jsonSchema() },
        additionalProperties: false,
      };
    },
    parse(node, path, context) {
      const map = context.resolve(node);
      if (!isMap(map)) return mismatch(map, path, context, expected);
      const out: Record<string, T> = {};
      let valid = true;
      for (const pair of map.items as Pair<Node, Node | null>[]) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof key !== 'string' && typeof key !== 'number') {
          valid = context.error(pair.key, path, 'keys must be plain strings') !== INVALID;
          continue;
        }
        const name = String(key);
        if (options.keyPattern && !options.keyPattern.test(name)) {
          const hint = options.keyHint ?? `keys matching ${options.keyPattern.source}`;
          valid =
            context.error(pair.key, [...path, name], `"${name}" is not a valid key: use ${hint}`) !== INVALID;
          continue;
        }
        const parsed = value.parse(pair.value ?? nullValueAt(pair.key), [...path, name], context);
        if (parsed === INVALID) valid = false;
        else out[name] = parsed;
      }
      return valid ? out : INVALID;
    },
  };
}

/**
 * A mapping whose `tag` key picks its shape, e.g. a sink: `{type: local, path}` or `{type: s3, bucket, ...}`.
 * Each variant is an object field that itself declares the tag key.
 */
export function taggedUnion<V extends Record<string, Field<unknown>>>(
  tag: string,
  variants: V,
  options: { expected: string },
): Field<{ [K in keyof V]: V[K] extends Field<infer T> ? T : never }[keyof V]> {
  type Value = { [K in keyof V]: V[K] extends Field<infer T> ? T : never }[keyof V];
  const names = Object.keys(variants);
  return {
    expected: options.expected,
    jsonSchema: () => ({ oneOf: Object.values(variants).map((variant) => variant.jsonSchema()) }),
    parse(node, path, context) {
      const map = context.resolve(node);
      if (!isMap(map)) return mismatch(map, path, context, options.expected);
      const tagNode = map.get(tag, true) as Node | undefined;
      if (tagNode === undefined) {
        return context.error(
          map,
          [...path, tag],
          `required key is missing; expected one of ${names.join(', ')}`,
        );
      }
      const resolved = context.resolve(tagNode);
      const name = isScalar(resolved) ? resolved.value : undefined;
      const variant = typeof name === 'string' ? variants[name] : undefined;
      if (variant === undefined) {
        const suggestion = typeof name === 'string' ? closestKey(name, names) : undefined;
        const message = `expected one of ${names.join(', ')}, got ${describeNode(resolved)}`;
        return context.error(
          resolved,
          [...path, tag],
          suggestion ? `${message}; did you mean "${suggestion}"?` : message,
        );
      }
      return variant.parse(map, path, context) as Value | typeof INVALID;
    },
  };
}
