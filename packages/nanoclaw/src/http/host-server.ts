/**
 * The host's HTTP server: /health, /api/usage, the web chat and Telegram's webhook, on NANOCLAW_PORT,
 * behind the web chat's token when one is set.
 */
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import type { HostChannels } from '../channels/host-channels.ts';
import { WebAuth } from '../channels/web-auth.ts';
import type { Config } from '../config.ts';
import { health } from '../health.ts';
import type { Logger } from '../log.ts';
import type { GroupQueue } from '../queue/group-queue.ts';
import type { HeldMessages } from '../store/held-messages.ts';
import type { MessageStore } from '../store/messages.ts';
import { type ReportDeps, usageHealth, usageRoute } from '../usage/report.ts';
import { trustedProxyList } from './forwarded.ts';
import { startHttpServer } from './server.ts';

export interface HostServerDeps {
  config: Config;
  channels: HostChannels;
  queue: GroupQueue;
  messages: MessageStore;
  held: HeldMessages;
  report: ReportDeps;
  log: Logger;
}

export function serveHost(deps: HostServerDeps): Promise<Server> {
  const { config, channels, queue, report } = deps;
  return startHttpServer(
    {
      health: (detailed) =>
        health(
          {
            channels: channels.all,
            queueDepth: () => queue.depth(),
            runningAgents: () => queue.running(),
            lastMessageAt: () => deps.messages.lastInboundAt(),
            accounting: () => ({ ...usageHealth(report), held_messages: deps.held.list().length }),
          },
          detailed,
        ),
      usage: (days) => usageRoute(report, days),
      web: channels.web,
      telegramWebhook: channels.telegramWebhook,
      auth: config.webToken === undefined ? undefined : new WebAuth(config.webToken),
      hosts: webHostNames(config),
      trustedProxies: trustedProxyList(config.trustedProxies),
      log: deps.log,
    },
    config.port,
    config.bindHost,
  );
}

/** The names the web chat is served on beyond loopback names and IP addresses: the listed ones and the bound name. */
function webHostNames(config: Config): Set<string> {
  const names = new Set(config.webHosts);
  if (isIP(config.bindHost) === 0) names.add(config.bindHost.toLowerCase());
  return names;
}
