/**
 * The building block of the workload schema: a `Field<T>` reads one YAML node into a `T`, reporting every
 * problem with its position and path, and describes itself as JSON Schema. The typed result and the JSON
 * Schema therefore come from one source.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  Scalar,
  type Document as YamlDocument,
} from 'yaml';
import { InterpolationError, interpolate } from '../interpolate.ts';
import type { WorkloadEnvironment } from '../workload-env.ts';
import type { JsonSchema } from './json-schema.ts';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The field as the file writes it: `sync.mappings[2].mode`; `(document)` for the whole file. */
  path: string;
  message: string;
}

/** Returned by `parse` when the node was wrong; the reason has already been reported. */
export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface Field<T> {
  /** What a valid value looks like, used in messages: "an integer from 0 to 10". */
  readonly expected: string;
  parse(node: Node, path: Path, context: ParseContext): T | Invalid;
  jsonSchema(): JsonSchema;
}

export type FieldValue<F> = F extends Field<infer T> ? T : never;

export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(document)' : out;
}

/** Everything one parse needs: the document for positions and aliases, the environment, the report. */
export class ParseContext {
  readonly problems: Problem[] = [];
  readonly document: YamlDocument;
  readonly lineCounter: LineCounter;
  /** The variables the workload may read; every other reads as unset. */
  readonly env: WorkloadEnvironment;

  constructor(document: YamlDocument, lineCounter: LineCounter, env: WorkloadEnvironment) {
    this.document = document;
    this.lineCounter = lineCounter;
    this.env = env;
  }

  error(node: Node | null | undefined, path: Path, message: string): Invalid {
    this.report('error', node, path, message);
    return INVALID;
  }

  warn(node: Node | null | undefined, path: Path, message: string): void {
    this.report('warning', node, path, message);
  }

  /** Follows YAML aliases (`*name`) to the node they stand for. */
  resolve(node: Node): Node {
    let current: Node | undefined = node;
    for (let hops = 0; current !== undefined && isAlias(current) && hops < 64; hops++) {
      current = current.resolve(this.document) as Node | undefined;
    }
    return current ?? node;
  }

  private report(severity: Severity, node: Node | null | undefined, path: Path, message: string): void {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lineCounter.linePos(offset);
    this.problems.push({ severity, line, column: col, path: formatPath(path), message });
  }
}

/** Describes what a node holds, for "expected X, got Y" messages. */
export function describeNode(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null || value === undefined) return 'an empty value';
    if (typeof value === 'string') return JSON.stringify(value);
    return String(value);
  }
  return 'an unsupported YAML node';
}

export function mismatch(node: Node, path: Path, context: ParseContext, expected: string): Invalid {
  return context.error(node, path, `expected ${expected}, got ${describeNode(node)}`);
}

/** `key:` with nothing after it: an empty scalar placed at the key, so messages point there. */
export function nullValueAt(keyNode: Node): Node {
  const empty = new Scalar(null);
  if (keyNode.range) empty.range = keyNode.range;
  return empty;
}

export type ScalarValue = string | number | boolean | null;

/**
 * Reads a scalar node, with `${VAR}` filled in for strings. Reports and returns INVALID for a mapping, a
 * list, or a failed substitution.
 */
export function readScalar(
  node: Node,
  path: Path,
  context: ParseContext,
  expected: string,
): ScalarValue | Invalid {
  const resolved = context.resolve(node);
  if (!isScalar(resolved)) return mismatch(resolved, path, context, expected);
  const value = resolved.value;
  if (typeof value === 'string') {
    try {
      return interpolate(value, context.env, (message) => context.warn(resolved, path, message));
    } catch (error) {
      if (error instanceof InterpolationError) return context.error(resolved, path, error.message);
      throw error;
    }
  }
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return mismatch(resolved, path, context, expected);
}

/** A field built from a function that turns one scalar into a value or a reason it could not. */
export function scalarField<T>(options: {
  expected: string;
  schema: JsonSchema;
  read: (value: ScalarValue) => T | Rejection;
  /** Optional advice given as a warning about a value that is valid but probably not meant. */
  advise?: (value: T) => string | undefined;
}): Field<T> {
  return {
    expected: options.expected,
    jsonSchema: () => options.schema,
    parse(node, path, context) {
      const value = readScalar(node, path, context, options.expected);
      if (value === INVALID) return INVALID;
      const result = options.read(value);
      if (result instanceof Rejection) return context.error(context.resolve(node), path, result.reason);
      const advice = options.advise?.(result);
      if (advice !== undefined) context.warn(context.resolve(node), path, advice);
      return result;
    },
  };
}

/** Why a scalar was refused; returned (not thrown) by a scalar field's reader. */
export class Rejection {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

export function reject(reason: string): Rejection {
  return new Rejection(reason);
}

export function got(value: ScalarValue): string {
  if (value === null) return 'an empty value';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Turns a field's output into another shape (normalisation) without changing what it accepts. */
export function mapField<T, U>(field: Field<T>, transform: (value: T) => U): Field<U> {
  return {
    expected: field.expected,
    jsonSchema: () => field.jsonSchema(),
    parse(node, path, context) {
      const value = field.parse(node, path, context);
      return value === INVALID ? INVALID : transform(value);
    },
  };
}

/** Wraps a field with a check that can reject or warn about a parsed value. */
export function refineField<T>(
  field: Field<T>,
  check: (value: T, report: { error(message: string): void; warn(message: string): void }) => void,
): Field<T> {
  return {
    expected: field.expected,
    jsonSchema: () => field.jsonSchema(),
    parse(node, path, context) {
      const value = field.parse(node, path, context);
      if (value === INVALID) return INVALID;
      let failed = false;
      check(value, {
        error(message) {
          failed = true;
          context.error(context.resolve(node), path, message);
        },
        warn(message) {
          context.warn(context.resolve(node), path, message);
        },
      });
      return failed ? INVALID : value;
    },
  };
}
