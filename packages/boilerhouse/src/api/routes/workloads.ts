/** Workloads (their files, through the API) and their pools. */
import { readFile } from 'node:fs/promises';
import { workloadJsonSchema } from '@boilerhouse/spec';
import type { Boilerhouse } from '../../boilerhouse.ts';
import { reachesWorkload } from '../reach.ts';
import { type JsonSchema, route, schemas } from '../route.ts';
import { ref } from '../view-schemas.ts';
import { poolView, workloadFileView, workloadProblemView, workloadView } from '../views.ts';

const workloadParam = { workload: schemas.workload };
const idParam = { id: schemas.workload };

export function workloadRoutes(boilerhouse: Boilerhouse) {
  return [
    route({
      method: 'get',
      path: '/api/v1/workloads',
      tag: 'workloads',
      summary: 'The workloads served, and the problems of workload files',
      scope: 'read',
      limitedBy: 'filtered',
      responses: { 200: { description: 'The workloads', schema: ref('WorkloadList') } },
      handle: (c, { principal }) =>
        c.json({
          workloads: boilerhouse.workloads
            .list()
            .filter((workload) => reachesWorkload(principal.reach, workload.id))
            .map(workloadView),
          // A file that names no workload is seen by tokens that reach every workload only.
          problems: boilerhouse.workloads
            .problems()
            .filter((problem) => reachesWorkload(principal.reach, problem.workload))
            .map(workloadProblemView),
        }),
    }),
    route({
      method: 'get',
      path: '/api/v1/workloads/{id}',
      tag: 'workloads',
      summary: 'A workload, the text of its file, and what validation says of that text',
      scope: 'read',
      limitedBy: { workload: 'path.id', everyTenant: false },
      params: idParam,
      responses: {
        200: { description: 'The workload', schema: ref('WorkloadFile') },
        404: 'No such workload',
      },
      handle: async (c, { params }) => {
        const workload = boilerhouse.workload(params.id as string);
        const source = await readFile(workload.file, 'utf8');
        return c.json(
          workloadFileView(workload, source, boilerhouse.checkWorkloadText(source, workload.file)),
        );
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/workloads/{id}',
      tag: 'workloads',
      summary: 'Create or replace a workload from a workload file (YAML or JSON)',
      description:
        'Validated exactly as a file in the workloads directory is, its sink tried (one listing of an S3 bucket, at most 5 s), then written there atomically. Errors come back as `details`, warnings (and images not on this host) as `warnings`, each with FILE:LINE:COL and the field path.',
      scope: 'workloads:write',
      limitedBy: { workload: 'path.id', everyTenant: true },
      params: idParam,
      rawBody: {
        mediaTypes: ['application/yaml', 'application/json', 'text/yaml'],
        schema: workloadJsonSchema() as JsonSchema,
        description: 'A workload file',
      },
      responses: {
        200: { description: 'The workload as loaded', schema: ref('WorkloadApplied') },
        400: 'The file is not valid, or its S3 sink refused the credentials or has no such bucket (`sink_unusable`)',
        502: 'Its S3 sink did not answer (`sink_unusable`)',
      },
      handle: async (c, { params, body }) => {
        const applied = await boilerhouse.applyWorkload(params.id as string, body as string);
        const { workload, created, warnings } = applied;
        return c.json({ id: workload.id, version: workload.hash, file: workload.file, created, warnings });
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/workloads/{id}',
      tag: 'workloads',
      summary: "Drain the workload's pool, then delete its file",
      scope: 'workloads:write',
      limitedBy: { workload: 'path.id', everyTenant: true },
      params: idParam,
      query: {
        force: {
          schema: { type: 'boolean' },
          description: "Release tenants' instances first (saving their state) instead of refusing",
        },
      },
      responses: { 204: 'Deleted', 409: 'Tenants hold instances (and force was not given)' },
      handle: async (c, { params, query }) => {
        await boilerhouse.deleteWorkload(params.id as string, { force: query.force === true });
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/pools',
      tag: 'pools',
      summary: 'Every pool: sizes, instances by phase, filling status',
      scope: 'read',
      limitedBy: 'filtered',
      responses: { 200: { description: 'The pools', schema: ref('PoolList') } },
      handle: (c, { principal }) =>
        c.json({
          pools: boilerhouse
            .pools()
            .filter((pool) => reachesWorkload(principal.reach, pool.workload))
            .map(poolView),
        }),
    }),
    route({
      method: 'get',
      path: '/api/v1/pools/{workload}',
      tag: 'pools',
      summary: "One workload's pool",
      scope: 'read',
      limitedBy: { workload: 'path.workload', everyTenant: false },
      params: workloadParam,
      responses: { 200: { description: 'The pool', schema: ref('Pool') }, 404: 'No such workload' },
      handle: (c, { params }) => c.json(poolView(boilerhouse.pool(params.workload as string))),
    }),
    route({
      method: 'post',
      path: '/api/v1/pools/{workload}/scale',
      tag: 'pools',
      summary: "Set the pool's sizes over the workload file's (null goes back to the file's)",
      scope: 'workloads:write',
      limitedBy: { workload: 'path.workload', everyTenant: true },
      params: workloadParam,
      body: {
        schema: {
          type: 'object',
          properties: {
            min_idle: { type: ['integer', 'null'], minimum: 0, maximum: 1000 },
            max_size: { type: ['integer', 'null'], minimum: 1, maximum: 1000 },
          },
          minProperties: 1,
          additionalProperties: false,
        },
        required: true,
      },
      responses: { 200: { description: 'The pool', schema: ref('Pool') } },
      handle: (c, { params, body }) => {
        const { min_idle, max_size } = body as { min_idle?: number | null; max_size?: number | null };
        return c.json(
          poolView(boilerhouse.scale(params.workload as string, { minIdle: min_idle, maxSize: max_size })),
        );
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/pools/{workload}/drain',
      tag: 'pools',
      summary: 'Stop keeping instances warm (min_idle 0) and destroy the ready ones',
      description:
        "Tenants' instances are left to their tenancy. Scale min_idle up (or to null) to fill again.",
      scope: 'workloads:write',
      limitedBy: { workload: 'path.workload', everyTenant: true },
      params: workloadParam,
      responses: { 200: { description: 'The pool', schema: ref('Pool') } },
      handle: async (c, { params }) => c.json(poolView(await boilerhouse.drain(params.workload as string))),
    }),
  ];
}
