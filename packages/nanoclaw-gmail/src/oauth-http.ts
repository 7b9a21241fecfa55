/**
 * Form posts to Google's OAuth endpoints (token, revoke), bounded in time. An error names the endpoint's
 * origin and OAuth's error code, never a token or the client's secret.
 */
const OAUTH_TIMEOUT_MS = 15_000;

export class OAuthError extends Error {
  override name = 'OAuthError';
  /** OAuth's error code (`invalid_grant`: the refresh token was revoked or expired), or the HTTP status. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export async function postForm(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const origin = new URL(url).origin;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS),
    });
  } catch (error) {
    throw new OAuthError(`${origin} could not be reached: ${(error as Error).message}`, 'unreachable');
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    // Not JSON: the status says enough.
  }
  if (!response.ok) {
    const code = typeof body.error === 'string' ? body.error : String(response.status);
    const detail = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
    throw new OAuthError(`${origin} answered ${response.status} (${code}${detail})`, code);
  }
  return body;
}
