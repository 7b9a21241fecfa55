/**
 * Headers across the model proxy: hop-by-hop headers (RFC 9110 7.6.1, and whatever `Connection` names)
 * never cross it; the agent's run token is taken off and the real credential put on in its place.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** The model's credential as the endpoint wants it: a key (`x-api-key`) and/or a bearer token. */
export interface ModelCredential {
  apiKey: string | undefined;
  authToken: string | undefined;
}

/** The headers without hop-by-hop ones. */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const dropped = new Set([...HOP_BY_HOP, ...named]);
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !dropped.has(name)) kept[name] = value;
  }
  return kept;
}

/** The token the agent presented: `x-api-key`, else `Authorization: Bearer`. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** What goes upstream: the agent's end-to-end headers, its token replaced by the credential. */
export function upstreamHeaders(
  headers: IncomingHttpHeaders,
  credential: ModelCredential,
): OutgoingHttpHeaders {
  const forwarded = endToEnd(headers);
  delete forwarded.host;
  delete forwarded['x-api-key'];
  delete forwarded.authorization;
  if (credential.apiKey !== undefined) forwarded['x-api-key'] = credential.apiKey;
  if (credential.authToken !== undefined) forwarded.authorization = `Bearer ${credential.authToken}`;
  return forwarded;
}
