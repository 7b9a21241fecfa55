/**
 * The few Gmail REST calls the tools make (users.messages.list, get and send), with an access token from
 * AccessTokens. A 401 means the token died early: it is refreshed and the call made once more.
 */
import type { AccessTokens } from './access-tokens.ts';
import type { GmailMessage } from './mime.ts';

const CALL_TIMEOUT_MS = 30_000;

export class GmailApiError extends Error {
  override name = 'GmailApiError';
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export class GmailApi {
  readonly #base: string;
  readonly #tokens: AccessTokens;

  constructor(apiRoot: string, tokens: AccessTokens) {
    this.#base = `${apiRoot}/gmail/v1/users/me`;
    this.#tokens = tokens;
  }

  /** Ids of the messages matching Gmail's search syntax (`from:ann subject:invoice newer_than:7d`). */
  async search(query: string, maxResults: number): Promise<Array<{ id: string; threadId: string }>> {
    const params = new URLSearchParams({ q: query, maxResults: String(maxResults) });
    const body = (await this.#call('GET', `/messages?${params}`)) as {
      messages?: Array<{ id: string; threadId: string }>;
    };
    return body.messages ?? [];
  }

  /** A message: `full` (body included) or `metadata` with only the named headers. */
  async message(id: string, format: 'full' | 'metadata', headers: string[] = []): Promise<GmailMessage> {
    const params = new URLSearchParams({ format });
    for (const name of headers) params.append('metadataHeaders', name);
    return (await this.#call('GET', `/messages/${encodeURIComponent(id)}?${params}`)) as GmailMessage;
  }

  /** Sends a message (`raw`: mime.ts), in a thread when one is given. */
  async send(raw: string, threadId?: string): Promise<{ id: string; threadId: string }> {
    return (await this.#call(
      'POST',
      '/messages/send',
      threadId === undefined ? { raw } : { raw, threadId },
    )) as {
      id: string;
      threadId: string;
    };
  }

  async #call(method: 'GET' | 'POST', path: string, body?: object): Promise<unknown> {
    let response = await this.#fetch(method, path, body, await this.#tokens.get());
    if (response.status === 401)
      response = await this.#fetch(method, path, body, await this.#tokens.get(true));
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // Not JSON: its first characters say what happened.
      }
      throw new GmailApiError(`Gmail answered ${response.status}: ${message}`, response.status);
    }
    return text === '' ? {} : JSON.parse(text);
  }

  #fetch(method: string, path: string, body: object | undefined, token: string): Promise<Response> {
    return fetch(`${this.#base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  }
}
