/**
 * `sync.retention`: which of a tenant's saves are kept. A count (`10`: the newest ten), an age (`30d`: every
 * save made in the last 30 days), or both (`{count: 10, age: 30d}`: a save is kept when either keeps it, so
 * a tenant away for longer than the age still has its last ten). A bare number is a count, as it always was;
 * an age is written as every other duration is.
 */
import { isMap, isScalar, Scalar } from 'yaml';
import { type Field, INVALID, mismatch, readScalar, refineField } from '../schema/field.ts';
import { object, optional } from '../schema/object.ts';
import { duration, integer } from '../schema/scalars.ts';
import { DURATION_PATTERN } from '../units.ts';

export interface Retention {
  /** The newest this many saves are kept. */
  count?: number;
  /** Every save younger than this (milliseconds) is kept. */
  age?: number;
}

/** Keeping saves for less than this is surely a bare number meant as something other than milliseconds. */
const SHORTEST_AGE_MS = 60_000;

const count = integer({ min: 1 });
const age = duration({ bare: 'ms', warnBelowMs: SHORTEST_AGE_MS });
const both = refineField(
  object(
    {
      count: optional(count, 'The newest this many saves are kept.'),
      age: optional(age, 'Every save younger than this is kept, e.g. "30d".'),
    },
    { expected: 'a mapping with count, age or both' },
  ),
  (value, report) => {
    if (value.count === undefined && value.age === undefined) {
      report.error('give count, age or both, e.g. {count: 10, age: 30d}');
    }
  },
);

const NUMERIC = /^\d+(\.\d+)?$/;

export function retention(): Field<Retention> {
  const expected = 'a number of saves (10), an age (30d), or both ({count: 10, age: 30d})';
  return {
    expected,
    jsonSchema: () => ({
      description:
        'A number of saves, an age ("30d": saves younger are kept), or {count, age}: a save either keeps is kept.',
      anyOf: [count.jsonSchema(), { type: 'string', pattern: DURATION_PATTERN }, both.jsonSchema()],
    }),
    parse(node, path, context) {
      const resolved = context.resolve(node);
      if (isMap(resolved)) return both.parse(resolved, path, context);
      if (!isScalar(resolved)) return mismatch(resolved, path, context, expected);
      const value = readScalar(resolved, path, context, expected);
      if (value === INVALID) return INVALID;
      if (typeof value === 'string' && value.includes('$'))
        return mismatch(resolved, path, context, expected);
      // The value as substitution left it, where the file wrote it: read once, then as a count or an age.
      const filled = new Scalar(value);
      if (resolved.range) filled.range = resolved.range;
      if (typeof value === 'number' || (typeof value === 'string' && NUMERIC.test(value.trim()))) {
        const parsed = count.parse(filled, path, context);
        return parsed === INVALID ? INVALID : { count: parsed };
      }
      if (typeof value !== 'string') return mismatch(resolved, path, context, expected);
      const parsed = age.parse(filled, path, context);
      return parsed === INVALID ? INVALID : { age: parsed };
    },
  };
}
