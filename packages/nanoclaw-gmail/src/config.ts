/**
 * What the Gmail server is started with: one JSON line on its stdin (never its environment or command
 * line, where the OAuth client's secret could be read by anything that lists processes), written by the
 * NanoClaw host that starts it. The endpoints are Google's unless set, so tests point them at a stand-in.
 */
export interface GmailServerConfig {
  /** The unix socket it serves MCP (streamable HTTP) on; only the NanoClaw host connects to it. */
  socketPath: string;
  /** The OAuth tokens (credentials.ts), written by the host's /gmail command. */
  credentialsPath: string;
  clientId: string;
  clientSecret: string;
  endpoints: GoogleEndpoints;
}

export interface GoogleEndpoints {
  /** The Gmail REST API's root: `${api}/gmail/v1/users/me/...`. */
  api: string;
  /** OAuth's token endpoint (code exchange and refresh). */
  token: string;
  /** Where the consent link points. */
  auth: string;
  /** Where a refresh token is revoked. */
  revoke: string;
}

export const GOOGLE_ENDPOINTS: GoogleEndpoints = {
  api: 'https://gmail.googleapis.com',
  token: 'https://oauth2.googleapis.com/token',
  auth: 'https://accounts.google.com/o/oauth2/v2/auth',
  revoke: 'https://oauth2.googleapis.com/revoke',
};

/** Read your mail and send as you: nothing more (no deleting, no labels, no settings). */
export const GMAIL_SCOPES = [
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.send',
];

/** Parses the stdin line, naming the first field that is wrong (never printing a value). */
export function parseServerConfig(text: string): GmailServerConfig {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new Error(`gmail server config: stdin is not JSON (${(error as Error).message})`);
  }
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const required = (value: unknown, name: string): string => {
    if (typeof value !== 'string' || value === '')
      throw new Error(`gmail server config: ${name} must be a non-empty string`);
    return value;
  };
  const endpoints = (fields.endpoints ?? {}) as Record<string, unknown>;
  const url = (name: keyof GoogleEndpoints): string => {
    const value = required(endpoints[name] ?? GOOGLE_ENDPOINTS[name], `endpoints.${name}`);
    if (!/^https?:\/\/\S+$/.test(value))
      throw new Error(`gmail server config: endpoints.${name} must be a URL`);
    return value.replace(/\/+$/, '');
  };
  return {
    socketPath: required(fields.socketPath, 'socketPath'),
    credentialsPath: required(fields.credentialsPath, 'credentialsPath'),
    clientId: required(fields.clientId, 'clientId'),
    clientSecret: required(fields.clientSecret, 'clientSecret'),
    endpoints: { api: url('api'), token: url('token'), auth: url('auth'), revoke: url('revoke') },
  };
}
