/** Moving a workload's tenants to its current version (pool/upgrades.ts). */
import type { Boilerhouse } from '../../boilerhouse.ts';
import { MAX_PARALLEL } from '../../pool/upgrades.ts';
import { route, schemas } from '../route.ts';
import { ref } from '../view-schemas.ts';
import { upgradeView } from '../views.ts';

export function upgradeRoutes(boilerhouse: Boilerhouse) {
  return [
    route({
      method: 'post',
      path: '/api/v1/workloads/{id}/upgrade',
      tag: 'workloads',
      summary:
        'Which tenants are on an old version of the workload and when each moves; with now, move them now',
      description:
        'Without `now` nothing is moved: a claimed tenant moves at its next release (saved, then its instance destroyed instead of reserved), a reservation is saved and replaced by the fill loop. With `now`, each claimed tenant is saved (its instance paused first), then claimed again on an instance of the current version, `parallel` at a time; the first failure stops the rest, and a tenant whose move failed stays on its instance with its data. Refused (409) when the current version cannot start instances.',
      scope: 'admin',
      limitedBy: { workload: 'path.id', everyTenant: true },
      params: { id: schemas.workload },
      body: {
        schema: {
          type: 'object',
          properties: {
            now: {
              type: 'boolean',
              description: 'move claimed tenants now instead of at their next release',
            },
            parallel: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_PARALLEL,
              description: 'tenants moved at once (default 2)',
            },
          },
          additionalProperties: false,
        },
        required: false,
      },
      responses: {
        200: {
          description: 'Every tenant on an old version and what happened to it',
          schema: ref('Upgrade'),
        },
        404: 'No such workload',
        409: 'With now: the current version cannot start instances (its image is missing, or the pool fails to create them); nobody was moved',
      },
      handle: async (c, { params, body }) => {
        const options = (body ?? {}) as { now?: boolean; parallel?: number };
        const report = await boilerhouse.upgrade(params.id as string, {
          now: options.now === true,
          ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
        });
        return c.json(upgradeView(report));
      },
    }),
  ];
}
