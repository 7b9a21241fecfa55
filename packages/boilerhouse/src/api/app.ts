/**
 * The daemon's HTTP API. JSON everywhere; every error is `{"error": {"code", "message"}}`, produced in
 * `onError` only, so handlers never catch.
 */
import { Hono } from 'hono';
import type { Boilerhouse } from '../boilerhouse.ts';
import { BadRequestError, BoilerhouseError, PoolExhaustedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { claimView, eventView, instanceView, poolView, releaseView, tenantView } from './views.ts';

/** Reads `{"workload": "..."}` from a request body, naming what is wrong with it. */
async function workloadFromBody(request: Request): Promise<string> {
  const text = await request.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError('the request body is not valid JSON; send {"workload": "<id>"}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('the request body must be a JSON object: {"workload": "<id>"}');
  }
  const workload = (body as Record<string, unknown>).workload;
  if (workload === undefined) throw new BadRequestError('field "workload" is required');
  if (typeof workload !== 'string' || workload === '') {
    throw new BadRequestError(`field "workload" must be a non-empty string, got ${JSON.stringify(workload)}`);
  }
  return workload;
}

export function createApp(boilerhouse: Boilerhouse, log: Logger): Hono {
  const app = new Hono();

  app.get('/api/v1/health', (c) => c.json({ status: 'ok', daemon: boilerhouse.daemonId }));

  app.post('/api/v1/tenants/:tenant/claim', async (c) => {
    const workload = await workloadFromBody(c.req.raw);
    return c.json(claimView(await boilerhouse.claim(c.req.param('tenant'), workload)));
  });

  app.post('/api/v1/tenants/:tenant/release', async (c) => {
    const workload = await workloadFromBody(c.req.raw);
    return c.json(releaseView(await boilerhouse.release(c.req.param('tenant'), workload)));
  });

  app.get('/api/v1/tenants/:tenant', (c) => c.json(tenantView(boilerhouse.tenant(c.req.param('tenant')))));

  app.get('/api/v1/pools', (c) => c.json({ pools: boilerhouse.pools().map(poolView) }));
  app.get('/api/v1/pools/:workload', (c) => c.json(poolView(boilerhouse.pool(c.req.param('workload')))));

  app.get('/api/v1/instances', (c) =>
    c.json({ instances: boilerhouse.instances().map((i) => instanceView(i)) }),
  );
  app.delete('/api/v1/instances/:id', async (c) => {
    await boilerhouse.destroy(c.req.param('id'));
    return c.body(null, 204);
  });

  app.get('/api/v1/events', (c) => {
    const raw = c.req.query('limit') ?? '100';
    if (!/^\d+$/.test(raw))
      throw new BadRequestError(`query "limit" must be a whole number, got ${JSON.stringify(raw)}`);
    return c.json({ events: boilerhouse.events(Number(raw)).map(eventView) });
  });

  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.onError((error, c) => {
    if (error instanceof BoilerhouseError) {
      if (error instanceof PoolExhaustedError) c.header('Retry-After', String(error.retryAfterSeconds));
      return c.json({ error: { code: error.code, message: error.message } }, error.status as 400);
    }
    log.error({ error, method: c.req.method, path: c.req.path }, 'request failed');
    return c.json({ error: { code: 'internal', message: error.message } }, 500);
  });

  return app;
}
