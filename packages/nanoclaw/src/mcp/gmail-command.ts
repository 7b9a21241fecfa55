/**
 * `/gmail`, in the main chat: connect the tenant's Gmail account, see it, disconnect it.
 *
 *   /gmail                  whether it is connected, as whom, and which groups have it
 *   /gmail connect          a consent link (valid 15 minutes)
 *   /gmail code <address>   the address the browser landed on after "Allow": the tokens are fetched and kept
 *   /gmail disconnect       the grant revoked at Google, the tokens deleted
 *
 * The tokens go to store/gmail/credentials.json (mcp/gmail.ts), never into a chat or a log; the code in
 * the pasted address is worth nothing without the PKCE verifier, which never leaves this process. Once
 * connected, the main group gets the `gmail` server; `/mcp add <chat id> gmail` gives it to another.
 */
import {
  type ConsentRequest,
  consentRequest,
  exchangeCode,
  type OAuthClient,
  parseRedirect,
  revokeGrant,
} from '@boilerhouse/nanoclaw-gmail/consent';
import {
  readCredentials,
  removeCredentials,
  writeCredentials,
} from '@boilerhouse/nanoclaw-gmail/credentials';
import type { GmailSettings } from '../config.ts';
import { MAIN_FOLDER } from '../layout.ts';
import type { Logger } from '../log.ts';
import { EVERY_GROUP, type McpServerStore } from '../store/mcp-servers.ts';
import { GMAIL, NOT_CONFIGURED } from './gmail.ts';

const CONSENT_TTL_MS = 15 * 60_000;

export interface GmailCommandDeps {
  settings: GmailSettings;
  credentialsPath: string;
  mcpServers: McpServerStore;
  log: Logger;
  now(): number;
}

const USAGE = 'Usage: /gmail, /gmail connect, /gmail code <address>, /gmail disconnect';

export class GmailConnection {
  readonly #deps: GmailCommandDeps;
  #pending: { request: ConsentRequest; until: number } | undefined;

  constructor(deps: GmailCommandDeps) {
    this.#deps = deps;
  }

  async command(args: string[]): Promise<string> {
    const [verb, ...rest] = args;
    const client = this.#client();
    if (client === undefined) return `${NOT_CONFIGURED}.`;
    switch (verb) {
      case undefined:
        return this.#status();
      case 'connect':
        return rest.length === 0 ? this.#connect(client) : USAGE;
      case 'code':
        return rest.length === 1 ? this.#code(client, rest[0] as string) : USAGE;
      case 'disconnect':
        return rest.length === 0 ? this.#disconnect() : USAGE;
      default:
        return USAGE;
    }
  }

  #client(): OAuthClient | undefined {
    const { client, redirectUri, endpoints } = this.#deps.settings;
    return client === undefined
      ? undefined
      : { clientId: client.id, clientSecret: client.secret, redirectUri, endpoints };
  }

  async #status(): Promise<string> {
    const credentials = await readCredentials(this.#deps.credentialsPath);
    if (credentials === undefined)
      return 'Gmail is not connected. /gmail connect gives you the link to connect it.';
    const groups = this.#deps.mcpServers
      .list()
      .filter((entry) => entry.spec.name === GMAIL && entry.spec.type === 'host')
      .map((entry) => (entry.group === EVERY_GROUP ? 'every group' : entry.group));
    return `Gmail is connected as ${credentials.email || 'an account'} since ${credentials.connectedAt || 'some time'}; groups that have it: ${groups.join(', ') || 'none (/mcp add <chat id> gmail)'}. /gmail disconnect ends it.`;
  }

  #connect(client: OAuthClient): string {
    const request = consentRequest(client);
    this.#pending = { request, until: this.#deps.now() + CONSENT_TTL_MS };
    return [
      'To connect Gmail (reading your mail and sending as you), open this link and allow access:',
      request.url,
      `Your browser then lands on a page that does not load (${client.redirectUri}...). Copy that page's whole address and send it here as: /gmail code <address>. The link works for 15 minutes.`,
    ].join('\n');
  }

  async #code(client: OAuthClient, pasted: string): Promise<string> {
    const pending = this.#pending;
    if (pending === undefined || pending.until < this.#deps.now())
      return 'There is no connection under way (or it is over 15 minutes old): start with /gmail connect.';
    const parsed = parseRedirect(pasted);
    if (typeof parsed === 'string') return `Not connected: ${parsed}.`;
    if (parsed.state !== pending.request.state)
      return 'Not connected: that address is from another /gmail connect; use the latest link.';
    this.#pending = undefined;
    let credentials: Awaited<ReturnType<typeof exchangeCode>>;
    try {
      credentials = await exchangeCode(
        client,
        parsed.code,
        pending.request.verifier,
        new Date(this.#deps.now()),
      );
    } catch (error) {
      this.#deps.log.warn(
        { error: (error as Error).message },
        'Gmail connection failed at the token exchange',
      );
      return `Not connected: ${(error as Error).message}. Start again with /gmail connect.`;
    }
    await writeCredentials(this.#deps.credentialsPath, credentials);
    if (this.#deps.mcpServers.get(MAIN_FOLDER, GMAIL) === undefined)
      this.#deps.mcpServers.put(MAIN_FOLDER, { name: GMAIL, type: 'host' }, this.#deps.now());
    this.#deps.log.info({ account: credentials.email }, 'Gmail connected');
    return `Gmail is connected as ${credentials.email}. This chat's assistant can search, read, send and reply from its next message; /mcp add <chat id> gmail gives it to another chat.`;
  }

  async #disconnect(): Promise<string> {
    const credentials = await readCredentials(this.#deps.credentialsPath);
    if (credentials === undefined) return 'Gmail is not connected.';
    let revoked = 'the grant is revoked at Google';
    try {
      await revokeGrant(this.#deps.settings.endpoints, credentials.refreshToken);
    } catch (error) {
      revoked = `Google could not be told (${(error as Error).message}): remove NanoClaw's access at https://myaccount.google.com/permissions`;
    }
    await removeCredentials(this.#deps.credentialsPath);
    this.#deps.log.info({ account: credentials.email }, 'Gmail disconnected');
    return `Gmail is disconnected: its tokens are deleted here and ${revoked}.`;
  }
}
