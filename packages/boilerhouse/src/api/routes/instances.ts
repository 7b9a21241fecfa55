/** Instances: listing, destroying, and their containers' output. */
import { stream } from 'hono/streaming';
import type { Boilerhouse } from '../../boilerhouse.ts';
import { PHASES, type Phase } from '../../db/instances.ts';
import { canSee } from '../reach.ts';
import { route, schemas } from '../route.ts';
import { ref } from '../view-schemas.ts';
import { instanceView } from '../views.ts';

export function instanceRoutes(boilerhouse: Boilerhouse) {
  return [
    route({
      method: 'get',
      path: '/api/v1/instances',
      tag: 'instances',
      summary: 'Instances, oldest first; claimed ones with their idle-release countdown',
      scope: 'read',
      limitedBy: 'filtered',
      query: {
        workload: { schema: schemas.workload, description: 'Only this workload' },
        phase: { schema: { enum: [...PHASES] }, description: 'Only this phase' },
      },
      responses: { 200: { description: 'The instances', schema: ref('InstanceList') } },
      handle: (c, { query, principal }) =>
        c.json({
          instances: boilerhouse
            .instances(query as { workload?: string; phase?: Phase })
            .filter((instance) => canSee(principal.reach, instance))
            .map((instance) =>
              instanceView(instance, boilerhouse.workloads, {
                idleReleaseAt: boilerhouse.idleReleaseAt(instance),
              }),
            ),
        }),
    }),
    route({
      method: 'delete',
      path: '/api/v1/instances/{id}',
      tag: 'instances',
      summary:
        "Destroy an instance, whatever its phase; a tenant's instance is saved first (a claimed one loses its tenant)",
      scope: 'workloads:write',
      limitedBy: { instance: 'path.id' },
      params: { id: schemas.instance },
      query: {
        discard: {
          schema: { type: 'boolean' },
          description: "Skip the save of the tenant's state (its changes since the last save are lost)",
        },
      },
      responses: {
        204: 'Destroyed',
        404: "No such instance (or none within the token's reach)",
        409: 'The instance kept changing phase while it was being destroyed',
      },
      handle: async (c, { params, query }) => {
        await boilerhouse.destroy(params.id as string, { discard: query.discard === true });
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/instances/{id}/logs',
      tag: 'instances',
      summary: "The instance container's output (stdout and stderr), optionally followed",
      scope: 'read',
      limitedBy: { instance: 'path.id' },
      params: { id: schemas.instance },
      query: {
        tail: {
          schema: { type: 'integer', minimum: 0, maximum: 100_000 },
          description: 'Lines to show from the end (default 200)',
        },
        follow: { schema: { type: 'boolean' }, description: 'Keep the response open and send new output' },
      },
      mediaType: 'text/plain',
      responses: { 200: 'The output, as text', 404: "No such instance (or none within the token's reach)" },
      handle: async (c, { params, query }) => {
        const abort = new AbortController();
        const output = await boilerhouse.instanceLogs(params.id as string, {
          tail: (query.tail as number | undefined) ?? 200,
          follow: query.follow === true,
          signal: abort.signal,
        });
        c.header('Content-Type', 'text/plain; charset=utf-8');
        return stream(c, async (body) => {
          body.onAbort(() => abort.abort());
          try {
            for await (const chunk of output) await body.write(chunk);
          } catch (error) {
            if (!abort.signal.aborted) throw error;
          }
        });
      },
    }),
  ];
}
