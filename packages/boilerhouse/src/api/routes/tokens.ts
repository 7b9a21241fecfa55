/**
 * API tokens: made, listed and revoked by an admin. The token itself is shown once, at creation. A token
 * may be limited to some tenants and/or workloads (reach.ts); `GET /whoami` tells any caller its own.
 */
import type { Database } from '../../db/database.ts';
import { createToken, listTokens, revokeToken } from '../../db/tokens.ts';
import { NotFoundError } from '../../errors.ts';
import { SCOPE_HELP, SCOPES } from '../auth.ts';
import { route, schemas } from '../route.ts';
import { ValidationError } from '../validation.ts';
import { ref } from '../view-schemas.ts';
import { callerView, tokenView } from '../views.ts';

const MAX_REACH = 100;

interface NewToken {
  name: string;
  scopes: string[];
  expires_in_seconds?: number;
  tenants?: string[];
  workloads?: string[];
}

export function tokenRoutes(db: Database) {
  return [
    route({
      method: 'post',
      path: '/api/v1/tokens',
      tag: 'tokens',
      summary: 'Make a token with some scopes; the response is the only time the token is shown',
      description: `Scopes: ${SCOPES.map((scope) => `\`${scope}\` (${SCOPE_HELP[scope]})`).join('; ')}.`,
      scope: 'admin',
      limitedBy: 'unlimited',
      body: {
        schema: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100, description: 'What the token is for' },
            scopes: { type: 'array', items: { enum: [...SCOPES] }, minItems: 1, uniqueItems: true },
            expires_in_seconds: { type: 'integer', minimum: 60, maximum: 10 * 365 * 86_400 },
            tenants: {
              type: 'array',
              items: schemas.tenant,
              minItems: 1,
              maxItems: MAX_REACH,
              uniqueItems: true,
              description: 'the only tenants the token may act on and see (default: every tenant)',
            },
            workloads: {
              type: 'array',
              items: schemas.workload,
              minItems: 1,
              maxItems: MAX_REACH,
              uniqueItems: true,
              description: 'the only workloads the token may act on and see (default: every workload)',
            },
          },
          required: ['name', 'scopes'],
          additionalProperties: false,
        },
        required: true,
      },
      responses: {
        201: { description: 'The token (shown once) and its record', schema: ref('TokenCreated') },
        400: 'The request is not valid (an `admin` token cannot be limited); `details` says where',
      },
      handle: (c, { body }) => {
        const { name, scopes, expires_in_seconds, tenants, workloads } = body as NewToken;
        refuseLimitedAdmin(scopes, { tenants, workloads });
        const now = Date.now();
        const expiresAt = expires_in_seconds === undefined ? null : now + expires_in_seconds * 1000;
        const { token, record } = createToken(db, {
          name,
          scopes,
          tenants: tenants ?? null,
          workloads: workloads ?? null,
          expiresAt,
          now,
        });
        return c.json({ ...tokenView(record), token }, 201);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tokens',
      tag: 'tokens',
      summary: 'Tokens not revoked, with their reach (never the tokens themselves)',
      scope: 'admin',
      limitedBy: 'unlimited',
      responses: { 200: { description: 'The tokens', schema: ref('TokenList') } },
      handle: (c) => c.json({ tokens: listTokens(db).map(tokenView) }),
    }),
    route({
      method: 'delete',
      path: '/api/v1/tokens/{id}',
      tag: 'tokens',
      summary: 'Revoke a token; it stops working at once',
      scope: 'admin',
      limitedBy: 'unlimited',
      params: {
        id: { type: 'string', pattern: '^[0-9a-f]{12}$', description: 'a token id (12 hex digits)' },
      },
      responses: { 204: 'Revoked', 404: 'No such token (or already revoked)' },
      handle: (c, { params }) => {
        if (!revokeToken(db, params.id as string, Date.now()))
          throw new NotFoundError(`no token ${params.id}`);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/whoami',
      tag: 'tokens',
      summary: 'The token this request was made with: its name, scopes and reach (any valid token)',
      scope: 'authenticated',
      limitedBy: 'none',
      responses: { 200: { description: 'The caller', schema: ref('Caller') } },
      handle: (c, { principal }) => c.json(callerView(principal)),
    }),
  ];
}

/** Admin reaches everything, tokens included, so it cannot be limited to some tenants or workloads. */
function refuseLimitedAdmin(scopes: string[], limits: { tenants?: string[]; workloads?: string[] }): void {
  if (!scopes.includes('admin')) return;
  const problems = Object.entries(limits)
    .filter(([, ids]) => ids !== undefined)
    .map(([field]) => ({
      path: `body.${field}`,
      message: 'cannot limit a token with the "admin" scope (admin reaches everything, tokens included)',
    }));
  if (problems.length > 0) throw new ValidationError(problems);
}
