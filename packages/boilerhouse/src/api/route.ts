/**
 * A route of the API, described once: its path, scope, how a limited token is held to its reach,
 * parameters and body schemas (JSON Schema 2020-12) and its handler. The same description validates requests (validation.ts) and becomes the OpenAPI
 * document (openapi.ts), so the two cannot drift apart.
 */
import { WORKLOAD_ID } from '@boilerhouse/spec';
import type { Context } from 'hono';
import { TENANT_ID } from '../tenant.ts';
import type { Principal, Scope } from './auth.ts';
import type { LimitedBy } from './reach.ts';

export type JsonSchema = Record<string, unknown>;

export interface QueryParameter {
  schema: JsonSchema;
  description: string;
  required?: boolean;
}

export interface RouteInput {
  params: Record<string, string>;
  /** Query values, converted to the schema's types. */
  query: Record<string, unknown>;
  /** The parsed, validated JSON body; or the raw text for routes with `rawBody`. */
  body: unknown;
  principal: Principal;
}

export interface ResponseDescription {
  description: string;
  schema: JsonSchema;
}

export type ApiContext = Context<{ Variables: { requestId: string } }>;

export interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI style: `/api/v1/tenants/{tenant}/claim`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** `public` only for health; `authenticated`: any valid token, whatever its scopes. */
  scope: Scope | 'public' | 'authenticated';
  /**
   * Where the request names the tenant, workload or instance a token limited to some tenants and workloads
   * must reach, or that the handler filters what it shows, or that limited tokens are refused (reach.ts).
   */
  limitedBy: LimitedBy;
  params?: Record<string, JsonSchema>;
  query?: Record<string, QueryParameter>;
  /** A JSON body, validated against `schema`. */
  body?: { schema: JsonSchema; required: boolean };
  /** A body read as text, of these media types; the handler validates it (`schema` documents it). */
  rawBody?: { mediaTypes: string[]; schema: JsonSchema; description: string };
  /**
   * Status -> what it means. A JSON success body also names its schema (`ref('Pool')`, from
   * view-schemas.ts); errors are always the Error schema. `mediaType` when the success body is not JSON.
   */
  responses: Record<number, string | ResponseDescription>;
  mediaType?: string;
  handle(c: ApiContext, input: RouteInput): Response | Promise<Response>;
}

/** Identity function that checks a route's shape where it is written. */
export function route(definition: Route): Route {
  return definition;
}

/** Schemas used by several routes. */
export const schemas = {
  tenant: {
    type: 'string',
    pattern: TENANT_ID.source,
    description: 'a tenant id: 1-128 letters, digits and . _ @ + -',
  },
  workload: {
    type: 'string',
    pattern: WORKLOAD_ID.source,
    description: 'a workload id: lowercase letters, digits and hyphens',
  },
  instance: {
    type: 'string',
    pattern: '^[A-Za-z0-9-]{1,64}$',
    description: 'an instance id',
  },
} satisfies Record<string, JsonSchema>;

/** `{"workload": "<id>"}`, the body of most tenant routes. */
export const workloadBody = {
  schema: {
    type: 'object',
    properties: { workload: schemas.workload },
    required: ['workload'],
    additionalProperties: false,
  },
  required: true,
};
