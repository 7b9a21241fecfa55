/** The OpenAPI 3.1 document, built from the route descriptions that also validate requests. */
import type { JsonSchema, Route } from './route.ts';

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

export function openApiDocument(routes: Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Boilerhouse API',
      version,
      description:
        'Pools of warm containers per workload, claimed by tenants. Every route but health needs `Authorization: Bearer <token>`: the admin key or a token with the scope the route names.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
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
  for (const [status, description] of Object.entries(route.responses)) {
    const success = Number(status) < 400;
    responses[status] =
      Number(status) === 204
        ? { description }
        : {
            description,
            content: success
              ? { [route.mediaType ?? 'application/json']: {} }
              : { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          };
  }
  responses['400'] ??= errorResponse('The request is not valid; `details` says where');
  if (route.scope !== 'public') {
    responses['401'] = errorResponse('No token, or not a valid one');
    responses['403'] = errorResponse(`The token lacks the "${route.scope}" scope`);
  }
  return {
    operationId: `${route.method}${route.path.replace(/^\/api\/v1/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.scope === 'public' ? { security: [] } : { 'x-scope': route.scope }),
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

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}
