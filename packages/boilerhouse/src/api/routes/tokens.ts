/** API tokens: made, listed and revoked by an admin. The token itself is shown once, at creation. */
import type { Database } from '../../db/database.ts';
import { createToken, listTokens, revokeToken } from '../../db/tokens.ts';
import { NotFoundError } from '../../errors.ts';
import { SCOPE_HELP, SCOPES } from '../auth.ts';
import { route } from '../route.ts';
import { ref } from '../view-schemas.ts';
import { tokenView } from '../views.ts';

export function tokenRoutes(db: Database) {
  return [
    route({
      method: 'post',
      path: '/api/v1/tokens',
      tag: 'tokens',
      summary: 'Make a token with some scopes; the response is the only time the token is shown',
      description: `Scopes: ${SCOPES.map((scope) => `\`${scope}\` (${SCOPE_HELP[scope]})`).join('; ')}.`,
      scope: 'admin',
      body: {
        schema: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100, description: 'What the token is for' },
            scopes: { type: 'array', items: { enum: [...SCOPES] }, minItems: 1, uniqueItems: true },
            expires_in_seconds: { type: 'integer', minimum: 60, maximum: 10 * 365 * 86_400 },
          },
          required: ['name', 'scopes'],
          additionalProperties: false,
        },
        required: true,
      },
      responses: {
        201: { description: 'The token (shown once) and its record', schema: ref('TokenCreated') },
      },
      handle: (c, { body }) => {
        const { name, scopes, expires_in_seconds } = body as {
          name: string;
          scopes: string[];
          expires_in_seconds?: number;
        };
        const now = Date.now();
        const expiresAt = expires_in_seconds === undefined ? null : now + expires_in_seconds * 1000;
        const { token, record } = createToken(db, { name, scopes, expiresAt, now });
        return c.json({ ...tokenView(record), token }, 201);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tokens',
      tag: 'tokens',
      summary: 'Tokens not revoked (never the tokens themselves)',
      scope: 'admin',
      responses: { 200: { description: 'The tokens', schema: ref('TokenList') } },
      handle: (c) => c.json({ tokens: listTokens(db).map(tokenView) }),
    }),
    route({
      method: 'delete',
      path: '/api/v1/tokens/{id}',
      tag: 'tokens',
      summary: 'Revoke a token; it stops working at once',
      scope: 'admin',
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
  ];
}
