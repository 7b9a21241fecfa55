/**
 * Access tokens for the Gmail API from the stored refresh token: one is kept in memory until a minute
 * before it expires, then refreshed at the token endpoint. The credentials file is read at each refresh,
 * so connecting another account or disconnecting (the host's /gmail command) takes effect at once.
 */
import type { GmailServerConfig } from './config.ts';
import { readCredentials } from './credentials.ts';
import { OAuthError, postForm } from './oauth-http.ts';

const EARLY_REFRESH_MS = 60_000;

export class GmailNotConnectedError extends Error {
  override name = 'GmailNotConnectedError';
}

export class AccessTokens {
  readonly #config: GmailServerConfig;
  readonly #now: () => number;
  #cached: { refreshToken: string; token: string; expiresAt: number } | undefined;

  constructor(config: GmailServerConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
  }

  /** A live access token; `fresh` skips the cached one (the API refused it). */
  async get(fresh = false): Promise<string> {
    const credentials = await readCredentials(this.#config.credentialsPath);
    if (credentials === undefined)
      throw new GmailNotConnectedError(
        'Gmail is not connected. Someone in the main chat connects it with /gmail connect.',
      );
    const cached = this.#cached;
    if (
      !fresh &&
      cached !== undefined &&
      cached.refreshToken === credentials.refreshToken &&
      cached.expiresAt - EARLY_REFRESH_MS > this.#now()
    )
      return cached.token;
    this.#cached = undefined;
    let body: Record<string, unknown>;
    try {
      body = await postForm(this.#config.endpoints.token, {
        grant_type: 'refresh_token',
        refresh_token: credentials.refreshToken,
        client_id: this.#config.clientId,
        client_secret: this.#config.clientSecret,
      });
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'invalid_grant')
        throw new GmailNotConnectedError(
          'Gmail access was revoked or has expired. Someone in the main chat connects it again with /gmail connect.',
        );
      throw error;
    }
    const token = body.access_token;
    if (typeof token !== 'string' || token === '')
      throw new Error('the token endpoint answered without an access_token');
    const lifetimeS = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    this.#cached = {
      refreshToken: credentials.refreshToken,
      token,
      expiresAt: this.#now() + lifetimeS * 1000,
    };
    return token;
  }
}
