/** Tenants: claim and release, their saves, and their secrets. */
import type { Boilerhouse } from '../../boilerhouse.ts';
import { NotFoundError } from '../../errors.ts';
import { canSee, type LimitedBy, reachesWorkload } from '../reach.ts';
import { route, schemas, workloadBody } from '../route.ts';
import { ref } from '../view-schemas.ts';
import {
  claimView,
  damagedSaveView,
  releaseView,
  saveView,
  secretNamesView,
  syncView,
  tenantSummaryView,
  tenantView,
  wakeView,
} from '../views.ts';

const tenantParam = { tenant: schemas.tenant };
const tenantAndWorkload: LimitedBy = { tenant: 'path.tenant', workload: 'body.workload' };
const tenantAndQueryWorkload: LimitedBy = { tenant: 'path.tenant', workload: 'query.workload' };
const tenantOfWorkloadsSeen: LimitedBy = { tenant: 'path.tenant', workload: 'filtered' };

export function tenantRoutes(boilerhouse: Boilerhouse) {
  return [
    route({
      method: 'get',
      path: '/api/v1/tenants',
      tag: 'tenants',
      summary: 'Tenants that hold an instance now, with their instances',
      scope: 'read',
      limitedBy: 'filtered',
      responses: { 200: { description: 'The tenants', schema: ref('TenantList') } },
      handle: (c, { principal }) =>
        c.json({
          tenants: boilerhouse
            .tenants()
            .map((entry) => ({
              ...entry,
              instances: entry.instances.filter((instance) => canSee(principal.reach, instance)),
            }))
            .filter((entry) => entry.instances.length > 0)
            .map(tenantSummaryView),
        }),
    }),
    route({
      method: 'get',
      path: '/api/v1/tenants/{tenant}',
      tag: 'tenants',
      summary: "A tenant's instances, their endpoints and idle-release countdowns, and its upcoming wakes",
      scope: 'read',
      limitedBy: tenantOfWorkloadsSeen,
      params: tenantParam,
      responses: { 200: { description: 'The tenant', schema: ref('Tenant') } },
      handle: (c, { params, principal }) => {
        const status = boilerhouse.tenant(params.tenant as string);
        const instances = status.instances.filter((each) => reachesWorkload(principal.reach, each.workload));
        const wakes = status.wakes.filter((each) => reachesWorkload(principal.reach, each.workload));
        return c.json(tenantView({ ...status, instances, wakes }, boilerhouse));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/wakes',
      tag: 'tenants',
      summary: 'Upcoming wakes of every tenant (pool.wake), soonest first',
      scope: 'read',
      limitedBy: 'filtered',
      responses: { 200: { description: 'The wakes', schema: ref('WakeList') } },
      handle: (c, { principal }) =>
        c.json({
          wakes: boilerhouse
            .wakes()
            .filter((wake) => canSee(principal.reach, wake))
            .map(wakeView),
        }),
    }),
    route({
      method: 'post',
      path: '/api/v1/tenants/{tenant}/claim',
      tag: 'tenants',
      summary: 'Claim an instance of a workload for the tenant (its own again if it has one)',
      scope: 'tenants:claim',
      limitedBy: tenantAndWorkload,
      params: tenantParam,
      body: workloadBody,
      responses: {
        200: {
          description: 'The claimed instance, its endpoints, the claim path and timings',
          schema: ref('Claim'),
        },
        503: 'The pool is exhausted (Retry-After) or the daemon is stopping',
      },
      handle: async (c, { params, body }) =>
        c.json(
          claimView(
            await boilerhouse.claim(params.tenant as string, (body as { workload: string }).workload),
            boilerhouse.workloads,
          ),
        ),
    }),
    route({
      method: 'post',
      path: '/api/v1/tenants/{tenant}/release',
      tag: 'tenants',
      summary: "Release the tenant's instance: save its state, then reserve it for the tenant",
      scope: 'tenants:claim',
      limitedBy: tenantAndWorkload,
      params: tenantParam,
      body: workloadBody,
      responses: {
        200: {
          description: 'What happened to the instance (outcome saving: the save goes on past the answer)',
          schema: ref('Release'),
        },
        502: 'The save failed; the instance and its data are kept',
      },
      handle: async (c, { params, body }) => {
        const result = await boilerhouse.release(
          params.tenant as string,
          (body as { workload: string }).workload,
        );
        return c.json(releaseView(result, boilerhouse.workloads));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/tenants/{tenant}/sync',
      tag: 'state',
      summary: "Save the tenant's running instance now (sync.policy.manual)",
      description:
        'Only "upload" is available: state is restored at claim; to go back to an older save, release and restore it.',
      scope: 'tenants:write',
      limitedBy: tenantAndWorkload,
      params: tenantParam,
      body: {
        schema: {
          type: 'object',
          properties: { workload: schemas.workload, direction: { enum: ['upload', 'download'] } },
          required: ['workload', 'direction'],
          additionalProperties: false,
        },
        required: true,
      },
      responses: {
        200: { description: 'The save (`changed: false` when nothing had changed)', schema: ref('Sync') },
      },
      handle: async (c, { params, body }) => {
        const { workload, direction } = body as { workload: string; direction: string };
        const result = await boilerhouse.sync(params.tenant as string, workload, direction);
        // sync() refuses "download", so only an upload gets here.
        return c.json(syncView(params.tenant as string, workload, 'upload', result));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tenants/{tenant}/snapshots',
      tag: 'state',
      summary: "The tenant's saves of a workload, newest first, and which is current",
      scope: 'read',
      limitedBy: tenantAndQueryWorkload,
      params: tenantParam,
      query: { workload: { schema: schemas.workload, required: true, description: 'The workload' } },
      responses: { 200: { description: 'The saves', schema: ref('Snapshots') } },
      handle: async (c, { params, query }) => {
        const workload = query.workload as string;
        const { head, saves, damaged } = await boilerhouse.snapshots(params.tenant as string, workload);
        return c.json({
          tenant: params.tenant,
          workload,
          head,
          saves: saves.map(saveView),
          damaged: damaged.map(damagedSaveView),
        });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/tenants/{tenant}/snapshots/{seq}/restore',
      tag: 'state',
      summary: 'Make an older save current again (while the tenant is released)',
      scope: 'tenants:write',
      limitedBy: tenantAndWorkload,
      params: {
        ...tenantParam,
        seq: { type: 'string', pattern: '^[0-9]{1,12}$', description: 'a save number' },
      },
      body: workloadBody,
      responses: {
        200: { description: 'The new current save', schema: ref('Restored') },
        409: 'The tenant holds an instance',
      },
      handle: async (c, { params, body }) => {
        const { workload } = body as { workload: string };
        const seq = Number(params.seq);
        const result = await boilerhouse.restoreSnapshot(params.tenant as string, workload, seq);
        return c.json({ tenant: params.tenant, workload, restored: seq, head: result.head });
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/tenants/{tenant}/secrets',
      tag: 'secrets',
      summary: "Store the tenant's secrets for a workload (encrypted; written into its next instance)",
      scope: 'tenants:write',
      limitedBy: tenantAndWorkload,
      params: tenantParam,
      body: {
        schema: {
          type: 'object',
          properties: {
            workload: schemas.workload,
            values: {
              type: 'object',
              description: 'names (environment-variable style) to values',
              additionalProperties: { type: 'string' },
            },
          },
          required: ['workload', 'values'],
          additionalProperties: false,
        },
        required: true,
      },
      responses: { 200: { description: 'The names stored (never the values)', schema: ref('SecretKeys') } },
      handle: (c, { params, body }) => {
        const { workload, values } = body as { workload: string; values: unknown };
        const { keys, shadowed } = boilerhouse.putSecrets(params.tenant as string, workload, values);
        return c.json({ tenant: params.tenant, workload, keys, shadowed });
      },
    }),
    route({
      method: 'patch',
      path: '/api/v1/tenants/{tenant}/secrets',
      tag: 'secrets',
      summary: "Set some of the tenant's secrets for a workload and remove others, keeping the rest",
      scope: 'tenants:write',
      limitedBy: tenantAndWorkload,
      params: tenantParam,
      body: {
        schema: {
          type: 'object',
          properties: {
            workload: schemas.workload,
            set: {
              type: 'object',
              description: 'names (environment-variable style) to new values',
              additionalProperties: { type: 'string' },
            },
            remove: {
              type: 'array',
              description: 'names to remove (a name not stored is no error)',
              items: { type: 'string', maxLength: 255 },
              maxItems: 256,
            },
          },
          required: ['workload'],
          minProperties: 2,
          additionalProperties: false,
        },
        required: true,
      },
      responses: {
        200: { description: 'The names stored now (never the values)', schema: ref('SecretKeys') },
      },
      handle: (c, { params, body }) => {
        const { workload, set, remove } = body as { workload: string; set?: unknown; remove?: string[] };
        const { keys, shadowed } = boilerhouse.updateSecrets(params.tenant as string, workload, {
          set: set ?? {},
          remove: remove ?? [],
        });
        return c.json({ tenant: params.tenant, workload, keys, shadowed });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tenants/{tenant}/secrets',
      tag: 'secrets',
      summary: "The names (never the values) of the tenant's secrets, per workload",
      scope: 'read',
      limitedBy: tenantOfWorkloadsSeen,
      params: tenantParam,
      responses: { 200: { description: 'The names', schema: ref('SecretNames') } },
      handle: (c, { params, principal }) => {
        const names = boilerhouse
          .secretNames(params.tenant as string)
          .filter((entry) => reachesWorkload(principal.reach, entry.workload));
        return c.json(secretNamesView(params.tenant as string, names));
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/tenants/{tenant}/secrets',
      tag: 'secrets',
      summary: "Delete the tenant's secrets for a workload",
      scope: 'tenants:write',
      limitedBy: tenantAndQueryWorkload,
      params: tenantParam,
      query: { workload: { schema: schemas.workload, required: true, description: 'The workload' } },
      responses: { 204: 'Deleted', 404: 'There were none' },
      handle: (c, { params, query }) => {
        if (!boilerhouse.deleteSecrets(params.tenant as string, query.workload as string)) {
          throw new NotFoundError(`tenant ${params.tenant} has no secrets for ${query.workload}`);
        }
        return c.body(null, 204);
      },
    }),
  ];
}
