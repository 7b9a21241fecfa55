/** Gateway access links of a tenant (gateway/links.ts): minted, listed (never the secret), revoked. */
import type { Boilerhouse } from '../../boilerhouse.ts';
import type { Database } from '../../db/database.ts';
import { mintLink, revokeTenantLink, tenantLinks } from '../../gateway/links.ts';
import { reachesWorkload } from '../reach.ts';
import { route, schemas } from '../route.ts';
import { ref } from '../view-schemas.ts';
import { linkView } from '../views.ts';

const tenantParam = { tenant: schemas.tenant };

export function linkRoutes(boilerhouse: Boilerhouse, db: Database) {
  return [
    route({
      method: 'post',
      path: '/api/v1/tenants/{tenant}/links',
      tag: 'links',
      summary: "Mint an access link to the tenant's address at the gateway (gateway.auth: token); shown once",
      description:
        "Opening the link sets an HttpOnly, SameSite=Lax cookie for the tenant's address and redirects to its page; API clients send the link's token as `Authorization: Bearer`.",
      scope: 'tenants:write',
      limitedBy: { tenant: 'path.tenant', workload: 'body.workload' },
      params: tenantParam,
      body: {
        schema: {
          type: 'object',
          properties: {
            workload: schemas.workload,
            expires_in_seconds: { type: 'integer', minimum: 60, maximum: 10 * 365 * 86_400 },
          },
          required: ['workload'],
          additionalProperties: false,
        },
        required: true,
      },
      responses: {
        201: { description: 'The link (its URL shown this once)', schema: ref('LinkCreated') },
        409: 'The workload has no gateway, or authenticates its callers itself',
      },
      handle: async (c, { params, body }) => {
        const { workload, expires_in_seconds } = body as { workload: string; expires_in_seconds?: number };
        const minted = await mintLink(boilerhouse, db, {
          tenant: params.tenant as string,
          workload,
          ...(expires_in_seconds === undefined ? {} : { expiresInSeconds: expires_in_seconds }),
        });
        return c.json({ ...linkView(minted.record), url: minted.url }, 201);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tenants/{tenant}/links',
      tag: 'links',
      summary: "The tenant's links that still admit (never their secrets)",
      scope: 'read',
      limitedBy: { tenant: 'path.tenant', workload: 'filtered' },
      params: tenantParam,
      responses: { 200: { description: 'The links', schema: ref('LinkList') } },
      handle: (c, { params, principal }) =>
        c.json({
          links: tenantLinks(db, params.tenant as string)
            .filter((link) => reachesWorkload(principal.reach, link.workload))
            .map(linkView),
        }),
    }),
    route({
      method: 'delete',
      path: '/api/v1/tenants/{tenant}/links/{id}',
      tag: 'links',
      summary: 'Revoke a link; the gateway refuses it from the moment this answers',
      scope: 'tenants:write',
      limitedBy: { tenant: 'path.tenant', workload: 'filtered' },
      params: {
        ...tenantParam,
        id: { type: 'string', pattern: '^[0-9a-f]{12}$', description: 'a link id (12 hex digits)' },
      },
      responses: { 204: 'Revoked', 404: 'No such link of the tenant (or revoked already)' },
      handle: async (c, { params, principal }) => {
        await revokeTenantLink(boilerhouse, db, params.tenant as string, params.id as string, (workload) =>
          reachesWorkload(principal.reach, workload),
        );
        return c.body(null, 204);
      },
    }),
  ];
}
