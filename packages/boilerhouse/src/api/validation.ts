/**
 * Request validation against a route's schemas, with Ajv (JSON Schema 2020-12, the dialect of OpenAPI
 * 3.1). Every problem names where it is: `body.values.API_KEY: must be string`, `query.limit: ...`.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { BoilerhouseError } from '../errors.ts';
import type { JsonSchema, Route } from './route.ts';

export interface Problem {
  path: string;
  message: string;
}

/** A request that does not match its route's schemas; `details` lists every problem. */
export class ValidationError extends BoilerhouseError {
  readonly details: Problem[];
  constructor(details: Problem[]) {
    const [first] = details;
    super(400, 'bad_request', first ? `${first.path}: ${first.message}` : 'the request is not valid');
    this.details = details;
  }
}

// Path and query values arrive as text: the query validator converts "10" to 10 where the schema says so.
const strict = new Ajv2020({ allErrors: true, verbose: true, strict: false });
const coercing = new Ajv2020({ allErrors: true, verbose: true, strict: false, coerceTypes: true });

export interface RouteValidators {
  params?: ValidateFunction;
  query?: ValidateFunction;
  body?: ValidateFunction;
}

export function compileRoute(route: Route): RouteValidators {
  return {
    ...(route.params && {
      params: strict.compile(objectOf(route.params, Object.keys(route.params))),
    }),
    query: coercing.compile(
      objectOf(
        Object.fromEntries(Object.entries(route.query ?? {}).map(([name, query]) => [name, query.schema])),
        Object.entries(route.query ?? {})
          .filter(([, query]) => query.required)
          .map(([name]) => name),
      ),
    ),
    ...(route.body && { body: strict.compile(route.body.schema) }),
  };
}

/** Throws a ValidationError naming every problem; `data` may be converted in place (query types). */
export function check(validate: ValidateFunction, data: unknown, where: string): void {
  if (validate(data)) return;
  throw new ValidationError((validate.errors ?? []).map((error) => describe(error, where)));
}

function objectOf(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

function describe(error: ErrorObject, where: string): Problem {
  const at = where + error.instancePath.replaceAll('/', '.');
  const params = error.params as Record<string, unknown>;
  const hint = (error.parentSchema as { description?: string } | undefined)?.description;
  const got = error.data === undefined ? '' : `, got ${JSON.stringify(error.data)?.slice(0, 80)}`;
  switch (error.keyword) {
    case 'required':
      return { path: `${at}.${params.missingProperty}`, message: 'is required' };
    case 'additionalProperties':
      return { path: `${at}.${params.additionalProperty}`, message: 'is not a known field' };
    case 'type':
      return { path: at, message: `must be ${withArticle(String(params.type))}${got}` };
    case 'enum':
      return {
        path: at,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`,
      };
    case 'pattern':
      return { path: at, message: `must be ${hint ?? `text matching ${params.pattern}`}${got}` };
    default:
      return { path: at, message: `${error.message ?? 'is not valid'}${got}` };
  }
}

function withArticle(type: string): string {
  if (type.includes(',')) return `one of ${type}`;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
