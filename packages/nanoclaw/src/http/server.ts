/**
 * The host's HTTP server (port 3847 by default): `/health`, Telegram's webhook when it is set, and the web
 * chat when it is on. Every other request is checked in this order: the `Host` it names (host-check.ts,
 * against DNS rebinding), then the web chat's token, then `GET /api/usage?days=N` (model usage per day
 * and group, limits, messages given up on) or the chat itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, BlockList } from 'node:net';
import type { WebChannel } from '../channels/web.ts';
import type { WebAuth } from '../channels/web-auth.ts';
import { TELEGRAM_WEBHOOK_PATH } from '../config.ts';
import type { Logger } from '../log.ts';
import { cameOverHttps } from './forwarded.ts';
import { hostAllowed } from './host-check.ts';
import { HttpError, sendError, sendJson } from './json.ts';

export interface HttpDeps {
  /** `detailed`: queue, usage and failures too (a caller with the token, or no token set). */
  health(detailed: boolean): { status: number; body: unknown };
  /** The body of GET /api/usage for the last `days` days. */
  usage(days: number): unknown;
  web: WebChannel | undefined;
  /** Takes Telegram's updates at TELEGRAM_WEBHOOK_PATH, in webhook mode. */
  telegramWebhook:
    | { handleWebhook(request: IncomingMessage, response: ServerResponse): Promise<void> }
    | undefined;
  /** When set, everything but /health needs the web chat's token. */
  auth: WebAuth | undefined;
  /** Host names served beyond loopback names and IP addresses (NANOCLAW_WEB_HOSTS). */
  hosts: ReadonlySet<string>;
  /** Peers whose X-Forwarded-Proto is believed. */
  trustedProxies: BlockList;
  log: Logger;
}

export async function startHttpServer(deps: HttpDeps, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://host');
    const path = url.pathname;
    (async () => {
      if (path === '/health') {
        if (request.method !== 'GET' && request.method !== 'HEAD')
          throw new HttpError(405, 'use GET /health');
        // Open to health checks; what the tenant's usage and messages look like only with the token.
        const detailed = deps.auth === undefined || deps.auth.carriesToken(request);
        const { status, body } = deps.health(detailed);
        sendJson(response, status, body);
        return;
      }
      // Telegram proves itself with the webhook's secret, not the chat's token, and names the public host
      // of TELEGRAM_WEBHOOK_URL; the Host check guards browsers, and no browser holds that secret.
      if (path === TELEGRAM_WEBHOOK_PATH && deps.telegramWebhook !== undefined) {
        await deps.telegramWebhook.handleWebhook(request, response);
        return;
      }
      if (!hostAllowed(request.headers.host, deps.hosts)) {
        deps.log.warn(
          { host: request.headers.host, path },
          'request for a host this chat is not served on refused',
        );
        response.writeHead(421, {
          'content-type': 'text/plain; charset=utf-8',
          'x-content-type-options': 'nosniff',
        });
        response.end(
          `421 Misdirected Request: this NanoClaw is not served as ${JSON.stringify(request.headers.host ?? '')}. Its operator lists other names in NANOCLAW_WEB_HOSTS.\n`,
        );
        return;
      }
      const https = cameOverHttps(request, deps.trustedProxies);
      if (deps.auth !== undefined && !deps.auth.admit(request, response, url, https)) return;
      if (path === '/api/usage') {
        if (request.method !== 'GET') throw new HttpError(405, 'use GET /api/usage');
        const days = Number(url.searchParams.get('days') ?? '31');
        if (!Number.isInteger(days) || days < 1 || days > 366)
          throw new HttpError(400, 'days: a whole number from 1 to 366');
        sendJson(response, 200, deps.usage(days));
        return;
      }
      if (deps.web !== undefined && (await deps.web.handle(request, response, path))) return;
      throw new HttpError(404, `nothing at ${path}`);
    })().catch((error: unknown) => {
      if (!(error instanceof HttpError)) deps.log.error({ path, error }, 'HTTP request failed');
      sendError(response, error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is in use: stop what uses it or set NANOCLAW_PORT`)
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function serverUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
}
