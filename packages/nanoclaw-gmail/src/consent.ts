/**
 * Connecting a Gmail account (OAuth 2.0 for installed apps, with PKCE): the host's `/gmail connect` makes
 * a consent link; the person opens it, allows access, and lands on `redirectUri` (a loopback address that
 * loads nothing), whose address they paste back with `/gmail code <address>`; the code is exchanged for
 * tokens, which go to the credentials file. The loopback redirect is what Google allows a "Desktop app"
 * OAuth client without registering any address, so one client serves every tenant wherever they are.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GMAIL_SCOPES, type GoogleEndpoints } from './config.ts';
import type { GmailCredentials } from './credentials.ts';
import { OAuthError, postForm } from './oauth-http.ts';

/** Port 1 on loopback: nothing listens there, and browsers refuse it, so the code goes nowhere but the address bar. */
export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:1/gmail-connected';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  endpoints: GoogleEndpoints;
}

/** A consent link and what its answer is checked against. */
export interface ConsentRequest {
  url: string;
  /** Echoed back in the redirect: a pasted address from another request is refused. */
  state: string;
  /** PKCE: a code is worth nothing without it, and it never leaves this process. */
  verifier: string;
}

export function consentRequest(client: OAuthClient): ConsentRequest {
  const state = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(client.endpoints.auth);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: GMAIL_SCOPES.join(' '),
    // offline: a refresh token, so access lasts beyond the hour; consent: asked again, so one is always issued.
    access_type: 'offline',
    prompt: 'consent',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString(), state, verifier };
}

/** The code and state in a pasted redirect address, or why there are none. */
export function parseRedirect(pasted: string): { code: string; state: string } | string {
  let url: URL;
  try {
    url = new URL(pasted.trim());
  } catch {
    return 'that is not an address: paste the whole address your browser shows after you allowed access';
  }
  const error = url.searchParams.get('error');
  if (error !== null) return `Google answered "${error}": access was not granted`;
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  if (code === null || state === null)
    return 'that address holds no code: paste the one you landed on after allowing access';
  return { code, state };
}

/** Exchanges the code for tokens and names the account they are for. */
export async function exchangeCode(
  client: OAuthClient,
  code: string,
  verifier: string,
  now = new Date(),
): Promise<GmailCredentials> {
  const body = await postForm(client.endpoints.token, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const refreshToken = body.refresh_token;
  const accessToken = body.access_token;
  if (typeof refreshToken !== 'string' || refreshToken === '' || typeof accessToken !== 'string')
    throw new OAuthError(
      'the token endpoint gave no refresh token (was offline access refused?)',
      'no_refresh_token',
    );
  return {
    refreshToken,
    email: await profileEmail(client.endpoints.api, accessToken),
    scope: typeof body.scope === 'string' ? body.scope : GMAIL_SCOPES.join(' '),
    connectedAt: now.toISOString(),
  };
}

/** Ends the grant at Google: the refresh token (and every access token made from it) stops working. */
export async function revokeGrant(endpoints: GoogleEndpoints, refreshToken: string): Promise<void> {
  await postForm(endpoints.revoke, { token: refreshToken });
}

async function profileEmail(api: string, accessToken: string): Promise<string> {
  const response = await fetch(`${api}/gmail/v1/users/me/profile`, {
    headers: { authorization: `Bearer ${accessToken}` },
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok)
    throw new OAuthError(`the Gmail profile could not be read (${response.status})`, String(response.status));
  const profile = (await response.json()) as { emailAddress?: unknown };
  return typeof profile.emailAddress === 'string' ? profile.emailAddress : '';
}
