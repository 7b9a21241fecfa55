/**
 * The request target, read strictly: a path that is not already canonical is refused rather than repaired,
 * so that what the policy matched is exactly what the engine would route. An optional `/v1.NN` prefix names
 * an API version the engine speaks; every request goes on to the engine as /v1.41, the version the policy
 * was written against.
 */
import { ProxyDenial, quote } from './denial.ts';

/** Oldest version accepted: before 1.24 a start request could still carry a HostConfig. */
const OLDEST_MINOR = 24;
const NEWEST_MINOR = 41;
/** Plain path characters only: no percent-encoding, backslashes, spaces or anything outside ASCII. */
const PATH_CHARACTERS = /^[A-Za-z0-9._:@/-]+$/;
const VERSION_SEGMENT = /^v(\d+)\.(\d+)$/;

export interface RequestTarget {
  /** Path segments after the version prefix, e.g. ['containers', 'abc', 'start']. */
  segments: string[];
  query: URLSearchParams;
}

export function parseTarget(url: string): RequestTarget {
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const query = mark === -1 ? '' : url.slice(mark + 1);
  if (!path.startsWith('/')) throw refused(path, 'it does not start with /');
  if (!PATH_CHARACTERS.test(path)) {
    throw refused(path, 'it has characters other than letters, digits and . _ : @ / - (no percent-encoding)');
  }
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === ''))
    throw refused(path, 'it has an empty segment (// or a trailing /)');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw refused(path, 'it has a . or .. segment');
  }
  const version = VERSION_SEGMENT.exec(segments[0] as string);
  if (version !== null) {
    const [, major, minor] = version as unknown as [string, string, string];
    if (major !== '1' || String(Number(minor)) !== minor || +minor < OLDEST_MINOR || +minor > NEWEST_MINOR) {
      throw refused(
        path,
        `API version ${segments[0]} is not one this socket speaks (v1.${OLDEST_MINOR} to v1.${NEWEST_MINOR})`,
      );
    }
    segments.shift();
  }
  if (segments.length === 0) throw refused(path, 'it names no endpoint');
  return { segments, query: new URLSearchParams(query) };
}

function refused(path: string, why: string): ProxyDenial {
  return new ProxyDenial(400, 'path', `request path ${quote(path)} is refused: ${why}`);
}
