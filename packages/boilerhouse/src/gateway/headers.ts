/**
 * Headers between the caller and the instance: hop-by-hop headers (RFC 9110 7.6.1, and whatever the
 * Connection header names) never cross; the gateway's own credentials (its cookie, a link as Bearer) stay at
 * the door; X-Forwarded-For/Proto/Host are set by the gateway, never appended to what a caller claimed.
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

export const LINK_COOKIE = 'boilerhouse_link';

/** Removes hop-by-hop headers in place; an upgrade keeps `connection: upgrade` and `upgrade`. */
export function dropHopByHop(headers: IncomingHttpHeaders, options: { upgrade: boolean }): void {
  const { connection, upgrade } = headers;
  // Only names that are there: deleting absent keys is not free, and this runs on every request.
  for (const name of HOP_BY_HOP) if (name in headers) delete headers[name];
  if (connection !== undefined) {
    for (const part of String(connection).split(',')) delete headers[part.trim().toLowerCase()];
  }
  if (options.upgrade && upgrade !== undefined) {
    headers.connection = 'upgrade';
    headers.upgrade = upgrade;
  }
}

/** The link secret a caller presents: the gateway's cookie, else `Authorization: Bearer`. */
export function presentedLink(
  headers: IncomingHttpHeaders,
): { secret: string; from: 'cookie' | 'bearer' } | undefined {
  const cookie = cookieValue(headers.cookie, LINK_COOKIE);
  if (cookie !== undefined) return { secret: cookie, from: 'cookie' };
  const match = /^Bearer\s+(bhl_[A-Za-z0-9_-]+)$/.exec(headers.authorization ?? '');
  return match ? { secret: match[1] as string, from: 'bearer' } : undefined;
}

/** Takes the gateway's credentials out of what the instance sees. */
export function dropGatewayCredentials(headers: IncomingHttpHeaders): void {
  if (/^Bearer\s+bhl_/.test(headers.authorization ?? '')) delete headers.authorization;
  if (headers.cookie === undefined) return;
  const rest = headers.cookie
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !part.startsWith(`${LINK_COOKIE}=`));
  if (rest.length === 0) delete headers.cookie;
  else headers.cookie = rest.join('; ');
}

export function setForwarded(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  host: string,
): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-forwarded-') || name === 'forwarded') delete headers[name];
  }
  headers['x-forwarded-for'] = remoteAddress ?? '';
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = host;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
