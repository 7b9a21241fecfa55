/**
 * Optional access control for the web chat (NANOCLAW_WEB_TOKEN): without it anyone who reaches the port
 * talks to the main group. With it, each request carries the token as `Authorization: Bearer <token>` or
 * in the `nanoclaw_token` cookie; opening `/?token=<token>` once sets that cookie (HttpOnly, SameSite
 * Strict, and Secure when the request came over HTTPS, so the browser never sends it over plain HTTP;
 * scoped to the directory the link was opened at) and drops the token from the address bar. /health
 * stays open for health checks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const COOKIE = 'nanoclaw_token';

export class WebAuth {
  readonly #digest: Buffer;
  constructor(token: string) {
    this.#digest = digest(token);
  }

  /**
   * True when the request may go on; otherwise the response has been sent (401, or the cookie redirect).
   * `https`: the request came over HTTPS (its own TLS, or a trusted proxy's X-Forwarded-Proto).
   */
  admit(request: IncomingMessage, response: ServerResponse, url: URL, https: boolean): boolean {
    const offered = url.searchParams.get('token');
    if (url.pathname === '/' && offered !== null && this.#matches(offered)) {
      url.searchParams.delete('token');
      // Both relative to the address the link was opened at, which may sit under a proxy's path prefix
      // (/{workload}/{tenant}/ at Boilerhouse's gateway): no Path, so the browser scopes the cookie to that
      // directory and not to every tenant of the origin; a query-only location keeps the path as it was.
      response.writeHead(303, {
        'set-cookie': `${COOKIE}=${encodeURIComponent(offered)}; HttpOnly; SameSite=Strict${https ? '; Secure' : ''}`,
        location: url.search === '' ? '?' : url.search,
      });
      response.end();
      return false;
    }
    if (this.carriesToken(request)) return true;
    response.writeHead(401, {
      'content-type': 'application/json; charset=utf-8',
      'www-authenticate': 'Bearer',
    });
    response.end(
      JSON.stringify({
        error: {
          message:
            'this web chat needs its token: open /?token=<NANOCLAW_WEB_TOKEN>, or send Authorization: Bearer',
        },
      }),
    );
    return false;
  }

  /** True when the request carries the token (Bearer, or the cookie). */
  carriesToken(request: IncomingMessage): boolean {
    const header = request.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    const cookie = cookieValue(request.headers.cookie, COOKIE);
    return (bearer !== undefined && this.#matches(bearer)) || (cookie !== undefined && this.#matches(cookie));
  }

  #matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.#digest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
