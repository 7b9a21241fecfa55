/**
 * The daemon's HTTP API. JSON everywhere; every error is `{"error": {"code", "message"}}`, produced in
 * `onError` only, so handlers never catch.
 */
import { Hono } from 'hono';
import type { Boilerhouse } from '../boilerhouse.ts';
import { BadRequestError, BoilerhouseError, NotFoundError, PoolExhaustedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { claimView, eventView, instanceView, poolView, releaseView, saveView, tenantView } from './views.ts';

/** Reads a JSON object from a request body, naming what is wrong with it; `shape` shows what to send. */
async function jsonBody(request: Request, shape: string): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    throw new BadRequestError(`the request body is not valid JSON; send ${shape}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError(`the request body must be a JSON object: ${shape}`);
  }
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined) throw new BadRequestError(`field "${name}" is required`);
  if (typeof value !== 'string' || value === '') {
    throw new BadRequestError(`field "${name}" must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

async function workloadFromBody(request: Request): Promise<string> {
  return stringField(await jsonBody(request, '{"workload": "<id>"}'), 'workload');
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

  app.post('/api/v1/tenants/:tenant/sync', async (c) => {
    const body = await jsonBody(c.req.raw, '{"workload": "<id>", "direction": "upload"}');
    const workload = stringField(body, 'workload');
    const direction = stringField(body, 'direction');
    const result = await boilerhouse.sync(c.req.param('tenant'), workload, direction);
    return c.json({ tenant: c.req.param('tenant'), workload, direction, save: result ?? null });
  });

  app.get('/api/v1/tenants/:tenant/snapshots', async (c) => {
    const workload = c.req.query('workload');
    if (workload === undefined || workload === '') throw new BadRequestError('query "workload" is required');
    const { head, saves } = await boilerhouse.snapshots(c.req.param('tenant'), workload);
    return c.json({
      tenant: c.req.param('tenant'),
      workload,
      head,
      saves: saves.map(saveView),
    });
  });

  app.post('/api/v1/tenants/:tenant/snapshots/:seq/restore', async (c) => {
    const workload = await workloadFromBody(c.req.raw);
    const raw = c.req.param('seq');
    if (!/^\d+$/.test(raw))
      throw new BadRequestError(`save number must be a whole number, got ${JSON.stringify(raw)}`);
    const result = await boilerhouse.restoreSnapshot(c.req.param('tenant'), workload, Number(raw));
    return c.json({ tenant: c.req.param('tenant'), workload, restored: Number(raw), head: result.head });
  });

  app.put('/api/v1/tenants/:tenant/secrets', async (c) => {
    const body = await jsonBody(c.req.raw, '{"workload": "<id>", "values": {"KEY": "value"}}');
    const workload = stringField(body, 'workload');
    if (body.values === undefined) throw new BadRequestError('field "values" is required');
    const { keys } = boilerhouse.putSecrets(c.req.param('tenant'), workload, body.values);
    return c.json({ tenant: c.req.param('tenant'), workload, keys });
  });

  app.get('/api/v1/tenants/:tenant/secrets', (c) =>
    c.json({
      tenant: c.req.param('tenant'),
      secrets: boilerhouse.secretNames(c.req.param('tenant')).map((entry) => ({
        workload: entry.workload,
        keys: entry.keys,
        updated_at: new Date(entry.updatedAt).toISOString(),
      })),
    }),
  );

  app.delete('/api/v1/tenants/:tenant/secrets', (c) => {
    const workload = c.req.query('workload');
    if (workload === undefined || workload === '') throw new BadRequestError('query "workload" is required');
    if (!boilerhouse.deleteSecrets(c.req.param('tenant'), workload)) {
      throw new NotFoundError(`tenant ${c.req.param('tenant')} has no secrets for ${workload}`);
    }
    return c.body(null, 204);
  });

  app.get('/api/v1/tenants/:tenant', (c) =>
    c.json(tenantView(boilerhouse.tenant(c.req.param('tenant')), boilerhouse)),
  );

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
