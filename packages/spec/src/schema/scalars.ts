/** Scalar fields: strings, numbers, booleans, choices, durations and memory sizes. */
import {
  type BareDurationUnit,
  DURATION_PATTERN,
  formatBytes,
  formatDuration,
  MEMORY_PATTERN,
  parseDuration,
  parseMemory,
  UnitError,
} from '../units.ts';
import { type Field, got, reject, type ScalarValue, scalarField } from './field.ts';
import { type JsonSchema, orInterpolated } from './json-schema.ts';

const NUMERIC_STRING = /^-?\d+(\.\d+)?$/;

interface StringOptions {
  /** Accept numbers and booleans too and turn them into text (environment values, user ids). */
  coerce?: boolean;
  pattern?: RegExp;
  /** Says what the pattern wants, for messages: "lowercase letters, digits and hyphens". */
  patternHint?: string;
  minLength?: number;
  maxLength?: number;
  expected?: string;
  examples?: string[];
}

export function string(options: StringOptions = {}): Field<string> {
  const expected = options.expected ?? (options.coerce ? 'a string or a number' : 'a string');
  const schema: JsonSchema = { type: 'string' };
  if (options.pattern) schema.pattern = options.pattern.source;
  if (options.minLength !== undefined) schema.minLength = options.minLength;
  if (options.maxLength !== undefined) schema.maxLength = options.maxLength;
  if (options.examples) schema.examples = options.examples;
  return scalarField({
    expected,
    schema: options.coerce ? { anyOf: [schema, { type: 'number' }, { type: 'boolean' }] } : schema,
    read(value) {
      let text: string;
      if (typeof value === 'string') text = value;
      else if (options.coerce && (typeof value === 'number' || typeof value === 'boolean'))
        text = String(value);
      else return reject(`expected ${expected}, got ${got(value)}`);
      if (options.minLength !== undefined && text.length < options.minLength) {
        return reject(
          text.length === 0
            ? `expected ${expected}, got an empty string`
            : `must be at least ${options.minLength} characters`,
        );
      }
      if (options.maxLength !== undefined && text.length > options.maxLength) {
        return reject(`must be at most ${options.maxLength} characters, got ${text.length}`);
      }
      if (options.pattern && !options.pattern.test(text)) {
        return reject(
          `${JSON.stringify(text)} is not valid: use ${options.patternHint ?? `text matching ${options.pattern.source}`}`,
        );
      }
      return text;
    },
  });
}

interface NumberOptions {
  min?: number;
  max?: number;
  /** The value must be greater than this (not equal). */
  above?: number;
}

function describeRange(kind: string, options: NumberOptions): string {
  if (options.above !== undefined) return `${kind} greater than ${options.above}`;
  if (options.min !== undefined && options.max !== undefined)
    return `${kind} from ${options.min} to ${options.max}`;
  if (options.min !== undefined) return `${kind} >= ${options.min}`;
  if (options.max !== undefined) return `${kind} <= ${options.max}`;
  return kind;
}

function numeric(kind: 'integer' | 'number', options: NumberOptions): Field<number> {
  const expected = describeRange(kind === 'integer' ? 'an integer' : 'a number', options);
  const schema: JsonSchema = { type: kind };
  if (options.min !== undefined) schema.minimum = options.min;
  if (options.max !== undefined) schema.maximum = options.max;
  if (options.above !== undefined) schema.exclusiveMinimum = options.above;
  return scalarField({
    expected,
    // Compose writes some numbers as strings (`cpus: "0.5"`), and `${VAR}` always yields one.
    schema: orInterpolated({ anyOf: [schema, { type: 'string', pattern: NUMERIC_STRING.source }] }),
    read(value) {
      const number = toNumber(value);
      if (number === undefined) return reject(`expected ${expected}, got ${got(value)}`);
      if (kind === 'integer' && !Number.isInteger(number))
        return reject(`expected ${expected}, got ${got(value)}`);
      const outOfRange =
        (options.min !== undefined && number < options.min) ||
        (options.max !== undefined && number > options.max) ||
        (options.above !== undefined && number <= options.above);
      if (outOfRange) return reject(`expected ${expected}, got ${got(value)}`);
      return number;
    },
  });
}

function toNumber(value: ScalarValue): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC_STRING.test(value.trim())) return Number(value);
  return undefined;
}

export function integer(options: NumberOptions = {}): Field<number> {
  return numeric('integer', options);
}

export function number(options: NumberOptions = {}): Field<number> {
  return numeric('number', options);
}

export function boolean(): Field<boolean> {
  return scalarField({
    expected: 'true or false',
    schema: orInterpolated({ type: 'boolean' }),
    read(value) {
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      return reject(`expected true or false, got ${got(value)}`);
    },
  });
}

export function oneOf<const T extends string>(choices: readonly T[]): Field<T> {
  const expected = `one of ${choices.join(', ')}`;
  return scalarField({
    expected,
    schema: { type: 'string', enum: choices },
    read(value) {
      if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
      return reject(`expected ${expected}, got ${got(value)}`);
    },
  });
}

const DURATION_EXAMPLES = '500ms, 30s, 5m, 1h or 1m30s';
const BARE_UNIT_NAME: Record<BareDurationUnit, string> = { ms: 'milliseconds', s: 'seconds' };

interface DurationOptions {
  /** The unit of a bare number in this field. */
  bare: BareDurationUnit;
  /** Below this many milliseconds the value probably used the wrong unit. */
  warnBelowMs?: number;
  /** Above this many milliseconds the value probably used the wrong unit. */
  warnAboveMs?: number;
}

/** A duration in milliseconds. Each field states what a bare number means. */
export function duration(options: DurationOptions): Field<number> {
  const bareName = BARE_UNIT_NAME[options.bare];
  const expected = `a duration such as ${DURATION_EXAMPLES}, or a bare number of ${bareName}`;
  return scalarField({
    expected,
    schema: orInterpolated({
      description: `Duration: a string with units (${DURATION_EXAMPLES}) or a bare number of ${bareName}.`,
      anyOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', pattern: DURATION_PATTERN },
        { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
      ],
    }),
    read(value) {
      if (typeof value !== 'number' && typeof value !== 'string')
        return reject(`expected ${expected}, got ${got(value)}`);
      try {
        return parseDuration(value, options.bare);
      } catch (error) {
        if (error instanceof UnitError) return reject(`expected ${expected}, got ${got(value)}`);
        throw error;
      }
    },
    advise(ms) {
      if (ms === 0) return undefined;
      if (options.warnBelowMs !== undefined && ms < options.warnBelowMs) {
        return `${formatDuration(ms)} is very short; a bare number here is in ${bareName} (write a unit, e.g. "30s", if you meant another)`;
      }
      if (options.warnAboveMs !== undefined && ms > options.warnAboveMs) {
        return `${formatDuration(ms)} is very long; a bare number here is in ${bareName} (write a unit, e.g. "30s", if you meant another)`;
      }
      return undefined;
    },
  });
}

const MEMORY_EXAMPLES = '512M, 2G or 256mb';
const MIB = 1024 * 1024;

/** A memory size in bytes. A bare number is in MiB. */
export function memory(): Field<number> {
  const expected = `a memory size such as ${MEMORY_EXAMPLES}, or a bare number of MiB`;
  return scalarField({
    expected,
    schema: orInterpolated({
      description: `Memory size: a string with binary units (${MEMORY_EXAMPLES}) or a bare number of MiB.`,
      anyOf: [
        { type: 'number', exclusiveMinimum: 0 },
        { type: 'string', pattern: MEMORY_PATTERN },
        { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
      ],
    }),
    read(value) {
      if (typeof value !== 'number' && typeof value !== 'string')
        return reject(`expected ${expected}, got ${got(value)}`);
      try {
        const bytes = parseMemory(value);
        if (bytes === 0) return reject(`expected ${expected} greater than 0, got ${got(value)}`);
        return bytes;
      } catch (error) {
        if (error instanceof UnitError) return reject(`expected ${expected}, got ${got(value)}`);
        throw error;
      }
    },
    advise(bytes) {
      if (bytes < 6 * MIB) {
        return `${formatBytes(bytes)} is too little for a container to start; a bare number here is in MiB (write "2G" for gigabytes)`;
      }
      if (bytes > 1024 * 1024 * MIB) {
        return `${formatBytes(bytes)} is more than 1TiB; a bare number here is in MiB, not bytes (write "512M" or "2G")`;
      }
      return undefined;
    },
  });
}
