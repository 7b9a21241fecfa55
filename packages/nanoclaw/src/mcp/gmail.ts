/**
 * Gmail beside the host: the server definition (packages/nanoclaw-gmail runs as a child process with the
 * OAuth client and the tokens' file) and where the tokens live, `store/gmail/credentials.json` (mode
 * 0600): in the host's store, which no agent container mounts, saved with the tenant's state like
 * WhatsApp's link. Connecting and disconnecting are the main chat's `/gmail` (gmail-command.ts).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { GmailServerConfig } from '@boilerhouse/nanoclaw-gmail/config';
import type { GmailSettings } from '../config.ts';
import type { Layout } from '../layout.ts';
import type { HostServerDefinition } from './host-servers.ts';

export const GMAIL = 'gmail';

/** The host servers this NanoClaw can run (an entry of type `host` names one). */
export const HOST_SERVER_NAMES: ReadonlySet<string> = new Set([GMAIL]);

export function gmailCredentialsPath(layout: Layout): string {
  return join(layout.storeDir, 'gmail', 'credentials.json');
}

export const NOT_CONFIGURED =
  'Gmail is not set up on this NanoClaw: its operator gives it an OAuth client (GMAIL_OAUTH_CLIENT_ID and GMAIL_OAUTH_CLIENT_SECRET, a Google Cloud "Desktop app" client with the Gmail API enabled; see docs/hosting-nanoclaw.md, "Gmail")';

export function gmailServer(settings: GmailSettings, layout: Layout): HostServerDefinition {
  return {
    name: GMAIL,
    entry: createRequire(import.meta.url).resolve('@boilerhouse/nanoclaw-gmail/main'),
    unavailable: () => (settings.client === undefined ? NOT_CONFIGURED : undefined),
    config: (socketPath): GmailServerConfig => {
      if (settings.client === undefined) throw new Error(NOT_CONFIGURED);
      return {
        socketPath,
        credentialsPath: gmailCredentialsPath(layout),
        clientId: settings.client.id,
        clientSecret: settings.client.secret,
        endpoints: settings.endpoints,
      };
    },
  };
}
