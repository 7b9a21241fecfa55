/**
 * The daemon's HTTP API, assembled from route descriptions (routes/*): each request is given an id, then
 * authenticated, authorised for the route's scope, validated against the route's schemas, and handled.
 * Any other GET is the dashboard's (dashboard-files.ts).
 * Every error is `{"error": {"code", "message", "request_id", "details"?}}`, produced in `onError` only,
 * so handlers never catch.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Boilerhouse } from '../boilerhouse.ts';
import { type Database, isDatabaseFull } from '../db/database.ts';
import { BadRequestError, BoilerhouseError, PoolExhaustedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Auth, Principal } from './auth.ts';
import { DashboardFiles } from './dashboard-files.ts';
import { openApiDocument } from './openapi.ts';
import { checkLimitedByFields, EVERYWHERE } from './reach.ts';
import { type ApiContext, type Route, route } from './route.ts';
import { backupRoutes } from './routes/backup.ts';
import { eventRoutes } from './routes/events.ts';
import { instanceRoutes } from './routes/instances.ts';
import { linkRoutes } from './routes/links.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { upgradeRoutes } from './routes/upgrades.ts';
import { workloadRoutes } from './routes/workloads.ts';
import { check, compileRoute, ValidationError } from './validation.ts';
import { ref } from './view-schemas.ts';

/** What the API needs of the metrics (see ../metrics). */
export interface ApiMetrics {
  render(): Promise<{ contentType: string; body: string }>;
  observeHttp(method: string, route: string, status: number, seconds: number): void;
}

export interface AppOptions {
  auth: Auth;
  db: Database;
  log: Logger;
  metrics?: ApiMetrics;
  /** Request bodies larger than this are refused (413). Default 1 MiB. */
  maxBodyBytes?: number;
  /** The dashboard's build, served at `/`. Default: packages/dashboard/dist. */
  dashboardDir?: string;
}

type Variables = { requestId: string; route: string };

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const ANONYMOUS: Principal = {
  id: 'anonymous',
  name: 'anonymous',
  scopes: [],
  reach: EVERYWHERE,
  expiresAt: null,
};

export function createApp(boilerhouse: Boilerhouse, options: AppOptions): Hono<{ Variables: Variables }> {
  const { auth, db, log, metrics } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const app = new Hono<{ Variables: Variables }>();

  const routes: Route[] = [
    route({
      method: 'get',
      path: '/api/v1/health',
      tag: 'system',
      summary: 'Whether the daemon is up (no token needed)',
      scope: 'public',
      limitedBy: 'none',
      responses: { 200: { description: 'Up', schema: ref('Health') } },
      handle: (c) => c.json({ status: 'ok', daemon: boilerhouse.daemonId }),
    }),
    ...tokenRoutes(db),
    ...workloadRoutes(boilerhouse),
    ...upgradeRoutes(boilerhouse),
    ...tenantRoutes(boilerhouse),
    ...linkRoutes(boilerhouse, db),
    ...instanceRoutes(boilerhouse),
    ...eventRoutes(boilerhouse, db),
    ...backupRoutes(boilerhouse),
  ];
  if (metrics !== undefined) {
    routes.push(
      route({
        method: 'get',
        path: '/metrics',
        tag: 'system',
        summary: 'Prometheus metrics (text exposition format)',
        scope: 'read',
        // Prometheus text is not filtered by tenant or workload: a limited token is refused.
        limitedBy: 'unlimited',
        mediaType: 'text/plain',
        responses: { 200: 'The metrics' },
        handle: async (c) => {
          const { contentType, body } = await metrics.render();
          return c.body(body, 200, { 'Content-Type': contentType });
        },
      }),
    );
  }
  const openApiRoute = route({
    method: 'get',
    path: '/api/v1/openapi.json',
    tag: 'system',
    summary: 'This document',
    scope: 'read',
    limitedBy: 'none',
    responses: { 200: { description: 'The OpenAPI 3.1 document', schema: ref('OpenApiDocument') } },
    handle: (c) => c.json(document),
  });
  routes.push(openApiRoute);
  const document = openApiDocument(routes, VERSION);

  app.use('*', async (c, next) => {
    const incoming = c.req.header('X-Request-Id');
    const requestId =
      incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomBytes(8).toString('hex');
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const routeTemplate = c.get('route') ?? 'unmatched';
    metrics?.observeHttp(c.req.method, routeTemplate, c.res.status, seconds);
    const fields = {
      request_id: requestId,
      method: c.req.method,
      route: routeTemplate,
      status: c.res.status,
      ms: Math.round(seconds * 10_000) / 10,
    };
    if (c.res.status >= 500) log.error(fields, 'request failed');
    else if (c.req.method === 'GET' && c.res.status < 400) log.debug(fields, 'request');
    else log.info(fields, 'request');
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        errorResponse(
          c,
          413,
          'payload_too_large',
          `the request body is over the limit of ${maxBodyBytes} bytes`,
        ),
    }),
  );

  for (const definition of routes) {
    const validators = compileRoute(definition);
    checkLimitedByFields(`${definition.method.toUpperCase()} ${definition.path}`, definition.limitedBy, {
      params: Object.keys(definition.params ?? {}),
      query: Object.keys(definition.query ?? {}),
      body: Object.keys((definition.body?.schema.properties as object | undefined) ?? {}),
    });
    app.on(definition.method.toUpperCase(), honoPath(definition.path), async (c) => {
      c.set('route', definition.path);
      let principal: Principal = ANONYMOUS;
      if (definition.scope !== 'public') {
        principal = auth.authenticate(c.req.header('Authorization'));
        if (definition.scope !== 'authenticated') auth.authorize(principal, definition.scope);
      }
      const params = c.req.param() as Record<string, string>;
      if (validators.params) check(validators.params, params, 'path');
      const query: Record<string, unknown> = Object.fromEntries(new URL(c.req.url).searchParams);
      if (validators.query) check(validators.query, query, 'query');
      let body: unknown;
      if (definition.body) {
        body = await jsonBody(c.req.raw, definition.body.required);
        if (validators.body && body !== undefined) check(validators.body, body, 'body');
      } else if (definition.rawBody) {
        body = await textBody(c.req.raw, definition.rawBody.mediaTypes);
      } else if ((await c.req.raw.text()) !== '') {
        throw new BadRequestError(
          `${definition.method.toUpperCase()} ${definition.path} takes no request body`,
        );
      }
      auth.authorizeReach(principal, definition.limitedBy, { params, query, body });
      return definition.handle(c as unknown as ApiContext, { params, query, body, principal });
    });
  }

  // Everything outside the API is the dashboard (its files, or its page for any page path).
  const dashboard = new DashboardFiles(options.dashboardDir);
  app.get('*', (c, next) => {
    if (c.req.path === '/metrics' || c.req.path === '/api' || c.req.path.startsWith('/api/')) return next();
    c.set('route', 'dashboard');
    return dashboard.respond(c.req.path, c.req.raw.headers);
  });

  const templates = routes.map((definition) => ({
    method: definition.method.toUpperCase(),
    pattern: new RegExp(`^${definition.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  app.notFound((c) => {
    const allowed = templates.filter((t) => t.pattern.test(c.req.path)).map((t) => t.method);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      return errorResponse(
        c,
        405,
        'method_not_allowed',
        `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(' or ')}`,
      );
    }
    return errorResponse(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`);
  });

  app.onError((error, c) => {
    if (error instanceof BoilerhouseError) {
      if (error instanceof PoolExhaustedError) c.header('Retry-After', String(error.retryAfterSeconds));
      if (error.status === 401) c.header('WWW-Authenticate', 'Bearer');
      const details =
        error instanceof ValidationError
          ? error.details
          : 'problems' in error
            ? (error.problems as { path: string; message: string }[])
            : undefined;
      return errorResponse(c, error.status, error.code, error.message, details);
    }
    log.error(
      { error, request_id: c.get('requestId'), method: c.req.method, path: c.req.path },
      'request failed',
    );
    if (isDatabaseFull(error)) {
      // The write that failed was rolled back (db/database.ts): the database still says what did happen.
      return errorResponse(
        c,
        507,
        'no_space',
        `the daemon could not write to its database (${error.message}): the disk of its data directory is full. Its records say where this stopped (GET the tenant or instance); free space and try again`,
      );
    }
    return errorResponse(c, 500, 'internal', error.message);
  });

  return app;
}

/** `/api/v1/tenants/{tenant}` -> `/api/v1/tenants/:tenant`. */
function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

function errorResponse(
  c: { get(key: 'requestId'): string; json: (body: unknown, status: never) => Response },
  status: number,
  code: string,
  message: string,
  details?: { path: string; message: string }[],
): Response {
  const error = { code, message, request_id: c.get('requestId'), ...(details ? { details } : {}) };
  return c.json({ error }, status as never);
}

/** The JSON body, or undefined when it is empty and not required. */
async function jsonBody(request: Request, required: boolean): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') {
    if (required) throw new BadRequestError('the request needs a JSON body');
    return undefined;
  }
  const type = request.headers.get('Content-Type');
  if (type !== null && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new BadRequestError(`the request body must be JSON (Content-Type: application/json), not ${type}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function textBody(request: Request, mediaTypes: string[]): Promise<string> {
  const type = (request.headers.get('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!mediaTypes.includes(type)) {
    throw new BadRequestError(
      `the request body must be one of ${mediaTypes.join(', ')} (Content-Type), not ${type || 'unspecified'}`,
    );
  }
  const text = await request.text();
  if (text.trim() === '') throw new BadRequestError('the request body is empty');
  return text;
}
