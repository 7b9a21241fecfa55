/** The OpenAPI 3.1 document, built from the route descriptions that also validate requests. */
import type { LimitedBy } from './reach.ts';
import type { JsonSchema, Route } from './route.ts';
import { viewSchemas } from './view-schemas.ts';

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        request_id: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            properties: { path: { type: 'string' }, message: { type: 'string' } },
            required: ['path', 'message'],
          },
        },
      },
      required: ['code', 'message', 'request_id'],
    },
  },
  required: ['error'],
};

/**
 * Throws when a route's description is incomplete: a JSON success response without a schema, a schema on
 * an error response (those are always Error), or a reference to a schema that does not exist.
 */
export function openApiDocument(routes: Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = operation(route);
  }
  const schemas: Record<string, JsonSchema> = { Error: ERROR_SCHEMA, ...viewSchemas };
  for (const name of references({ paths, schemas })) {
    if (!(name in schemas))
      throw new Error(`the API description refers to a schema "${name}" that no view has`);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Boilerhouse API',
      version,
      description:
        'Pools of warm containers per workload, claimed by tenants. Every route but health needs `Authorization: Bearer <token>`: the admin key or a token with the scope the route names. A token may be limited to some tenants and workloads; `x-limited-by` says how each route holds it to them.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas,
    },
    security: [{ bearer: [] }],
    paths,
  };
}

function operation(route: Route): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([name, schema]) => ({
      name,
      in: 'path',
      required: true,
      schema,
    })),
    ...Object.entries(route.query ?? {}).map(([name, query]) => ({
      name,
      in: 'query',
      required: query.required === true,
      description: query.description,
      schema: query.schema,
    })),
  ];
  const responses: Record<string, unknown> = {};
  for (const [status, described] of Object.entries(route.responses)) {
    const { description, schema } = typeof described === 'string' ? { description: described } : described;
    const where = `${route.method.toUpperCase()} ${route.path} response ${status}`;
    if (Number(status) >= 400) {
      if (schema !== undefined)
        throw new Error(`${where}: an error response is always Error; drop its schema`);
      responses[status] = errorResponse(description);
    } else if (Number(status) === 204) {
      responses[status] = { description };
    } else {
      const mediaType = route.mediaType ?? 'application/json';
      if (schema === undefined && mediaType === 'application/json') {
        throw new Error(`${where}: a JSON body needs a schema (ref() one from view-schemas.ts)`);
      }
      responses[status] = { description, content: { [mediaType]: schema === undefined ? {} : { schema } } };
    }
  }
  responses['400'] ??= errorResponse('The request is not valid; `details` says where');
  if (route.scope !== 'public') {
    responses['401'] = errorResponse('No token, or not a valid one');
    const refusals = [
      route.scope === 'authenticated' ? undefined : `the token lacks the "${route.scope}" scope`,
      limitRefusal(route.limitedBy),
    ].filter((refusal) => refusal !== undefined);
    if (refusals.length > 0) responses['403'] ??= errorResponse(capitalised(refusals.join('; or ')));
  }
  return {
    operationId: `${route.method}${route.path.replace(/^\/api\/v1/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.scope === 'public' ? { security: [] } : { 'x-scope': route.scope }),
    'x-limited-by': route.limitedBy,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.body.required,
            content: { 'application/json': { schema: route.body.schema } },
          },
        }
      : {}),
    ...(route.rawBody
      ? {
          requestBody: {
            required: true,
            description: route.rawBody.description,
            content: Object.fromEntries(
              route.rawBody.mediaTypes.map((type) => [type, { schema: route.rawBody?.schema }]),
            ),
          },
        }
      : {}),
    responses,
  };
}

/** When a token limited to some tenants and workloads gets 403 here, or undefined when it never does. */
function limitRefusal(limitedBy: LimitedBy): string | undefined {
  if (limitedBy === 'unlimited') return 'the token is limited to some tenants or workloads';
  if (typeof limitedBy === 'string' || 'instance' in limitedBy) return undefined;
  const named = Object.values(limitedBy).filter((field) => typeof field === 'string' && field !== 'filtered');
  const outside = `the token's limit leaves out the tenant or workload named by ${named.join(' or ')}`;
  if (!('everyTenant' in limitedBy && limitedBy.everyTenant)) return outside;
  return `${outside}; or the token is limited to some tenants (this changes the workload for every tenant)`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

/** The names of the component schemas referred to anywhere in `value`. */
function references(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) references(item, found);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && item.startsWith('#/components/schemas/')) {
        found.add(item.slice('#/components/schemas/'.length));
      } else {
        references(item, found);
      }
    }
  }
  return found;
}
