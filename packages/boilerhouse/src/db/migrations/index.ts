/**
 * Numbered schema migrations, applied in order; the database's `PRAGMA user_version` is the number applied.
 * Never edit one that has shipped: add the next.
 */
import initial from './001-initial.ts';
import secrets from './002-secrets.ts';
import releaseFailed from './003-release-failed.ts';
import apiTokensAndPoolScale from './004-api-tokens-and-pool-scale.ts';
import tokenReach from './005-token-reach.ts';
import failedHoldsItsTenant from './006-failed-holds-its-tenant.ts';
import wakes from './007-wakes.ts';
import gatewayLinks from './008-gateway-links.ts';

export const MIGRATIONS: readonly string[] = [
  initial,
  secrets,
  releaseFailed,
  apiTokensAndPoolScale,
  tokenReach,
  failedHoldsItsTenant,
  wakes,
  gatewayLinks,
];
