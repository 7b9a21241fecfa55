/**
 * A stand-in for Google at its wire protocol, on loopback, for tests: OAuth's consent (answered at once
 * with a redirect, as if the person clicked Allow), token (code with PKCE, and refresh) and revoke
 * endpoints, and the Gmail REST calls the server makes (users.getProfile, users.messages.list, get, send).
 * Every call is recorded as the stand-in saw it, so a test can check exactly what reached "Google".
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GoogleEndpoints } from '../config.ts';
import type { GmailMessage } from '../mime.ts';
import { parseRaw, type SentMail, threadFor } from './sent-mail.ts';

export interface StandInMail {
  id: string;
  threadId: string;
  from: string;
  to: string;
  subject: string;
  date: string;
  messageId: string;
  text: string;
}

export interface StandInCall {
  method: string;
  /** The path with its query string, as sent. */
  url: string;
  /** The form or JSON body, parsed. */
  body: Record<string, unknown>;
  /** The status it was answered with (set once the answer is out). */
  status?: number;
}

export interface GmailStandIn {
  endpoints: GoogleEndpoints;
  clientId: string;
  clientSecret: string;
  /** The account's address. */
  email: string;
  /** Every call, in order. */
  calls: StandInCall[];
  /** The Gmail API calls only (users/me/...), as `METHOD path?query`. */
  apiCalls(): string[];
  /** Each message sent: the thread asked for and the one it was filed in, its text and headers. */
  sent: SentMail[];
  /** A refresh token the stand-in honours without a consent (a test that starts connected). */
  issueRefreshToken(): string;
  /** Access tokens and refresh tokens it ever issued (to hunt for them where they must not be). */
  issued: string[];
  /** Every access token issued so far stops working, as when one expires early: the next call is a 401. */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

const GMAIL_PREFIX = '/gmail/v1/users/me';

function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', reject);
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') return resolve({});
      if ((request.headers['content-type'] ?? '').includes('application/json'))
        return resolve(JSON.parse(text));
      resolve(Object.fromEntries(new URLSearchParams(text)));
    });
  });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function resource(mail: StandInMail, format: string, wanted: string[]): GmailMessage {
  const headers = [
    { name: 'From', value: mail.from },
    { name: 'To', value: mail.to },
    { name: 'Subject', value: mail.subject },
    { name: 'Date', value: mail.date },
    { name: 'Message-ID', value: mail.messageId },
  ];
  const lower = wanted.map((name) => name.toLowerCase());
  const shown =
    format === 'metadata' ? headers.filter((entry) => lower.includes(entry.name.toLowerCase())) : headers;
  return {
    id: mail.id,
    threadId: mail.threadId,
    snippet: mail.text.slice(0, 100),
    labelIds: ['INBOX'],
    payload: {
      mimeType: 'multipart/alternative',
      headers: shown,
      ...(format === 'full'
        ? {
            parts: [
              { mimeType: 'text/plain', body: { data: Buffer.from(mail.text).toString('base64url') } },
              {
                mimeType: 'text/html',
                body: { data: Buffer.from(`<p>${mail.text}</p>`).toString('base64url') },
              },
            ],
          }
        : {}),
    },
  };
}

/** Every word of the query (Gmail operators such as `in:inbox` aside) in the sender, subject or text. */
function matches(mail: StandInMail, query: string): boolean {
  const haystack = `${mail.from} ${mail.subject} ${mail.text}`.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '' && !word.includes(':'))
    .every((word) => haystack.includes(word));
}

export async function startGmailStandIn(mailbox: StandInMail[]): Promise<GmailStandIn> {
  const clientId = `client-${randomBytes(4).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `secret-${randomBytes(12).toString('hex')}`;
  const email = 'user@example.test';
  const calls: StandInCall[] = [];
  const sent: GmailStandIn['sent'] = [];
  const issued: string[] = [];
  const refreshTokens = new Set<string>();
  const accessTokens = new Set<string>();
  /** access token -> the refresh token it was made from (revoking that one ends it too). */
  const madeFrom = new Map<string, string>();
  /** code -> what the token request must match. */
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const mint = (prefix: string, into: Set<string>) => {
    const token = `${prefix}${randomBytes(24).toString('base64url')}`;
    into.add(token);
    issued.push(token);
    return token;
  };

  const oauth = (url: URL, body: Record<string, unknown>, response: ServerResponse) => {
    if (url.pathname === '/o/oauth2/v2/auth') {
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      if (url.searchParams.get('client_id') !== clientId)
        return json(response, 400, { error: 'invalid_client' });
      const code = `code-${randomBytes(12).toString('base64url')}`;
      codes.set(code, {
        challenge: url.searchParams.get('code_challenge') ?? '',
        redirectUri: redirect.toString(),
      });
      redirect.searchParams.set('code', code);
      redirect.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: redirect.toString() });
      return response.end();
    }
    if (url.pathname === '/token') {
      if (body.client_id !== clientId || body.client_secret !== clientSecret)
        return json(response, 401, { error: 'invalid_client' });
      if (body.grant_type === 'authorization_code') {
        const pending = codes.get(String(body.code));
        codes.delete(String(body.code));
        const challenge = createHash('sha256').update(String(body.code_verifier)).digest('base64url');
        if (
          pending === undefined ||
          pending.challenge !== challenge ||
          pending.redirectUri !== body.redirect_uri
        )
          return json(response, 400, { error: 'invalid_grant' });
        const refreshToken = mint('1//', refreshTokens);
        const accessToken = mint('ya29.', accessTokens);
        madeFrom.set(accessToken, refreshToken);
        return json(response, 200, {
          access_token: accessToken,
          refresh_token: refreshToken,
          expires_in: 3599,
          scope: 'https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/gmail.send',
          token_type: 'Bearer',
        });
      }
      if (body.grant_type === 'refresh_token') {
        if (!refreshTokens.has(String(body.refresh_token)))
          return json(response, 400, { error: 'invalid_grant' });
        const accessToken = mint('ya29.', accessTokens);
        madeFrom.set(accessToken, String(body.refresh_token));
        return json(response, 200, {
          access_token: accessToken,
          expires_in: 3599,
          token_type: 'Bearer',
        });
      }
      return json(response, 400, { error: 'unsupported_grant_type' });
    }
    if (url.pathname === '/revoke') {
      // Revoking a refresh token ends every access token made from it (and an access token, itself).
      const token = String(body.token);
      refreshTokens.delete(token);
      accessTokens.delete(token);
      for (const [access, from] of madeFrom) if (from === token) accessTokens.delete(access);
      return json(response, 200, {});
    }
    json(response, 404, { error: 'not_found' });
  };

  const gmail = (
    request: IncomingMessage,
    url: URL,
    body: Record<string, unknown>,
    response: ServerResponse,
  ) => {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !accessTokens.has(token))
      return json(response, 401, {
        error: { code: 401, message: 'Request had invalid authentication credentials.' },
      });
    const path = url.pathname.slice(GMAIL_PREFIX.length);
    if (request.method === 'GET' && path === '/profile') return json(response, 200, { emailAddress: email });
    if (request.method === 'GET' && path === '/messages') {
      const max = Number(url.searchParams.get('maxResults') ?? '100');
      const found = mailbox.filter((mail) => matches(mail, url.searchParams.get('q') ?? '')).slice(0, max);
      return json(response, 200, {
        messages: found.map((mail) => ({ id: mail.id, threadId: mail.threadId })),
        resultSizeEstimate: found.length,
      });
    }
    const one = /^\/messages\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && one !== null) {
      const mail = mailbox.find((candidate) => candidate.id === decodeURIComponent(one[1] ?? ''));
      if (mail === undefined)
        return json(response, 404, { error: { code: 404, message: 'Requested entity was not found.' } });
      return json(
        response,
        200,
        resource(mail, url.searchParams.get('format') ?? 'full', url.searchParams.getAll('metadataHeaders')),
      );
    }
    if (request.method === 'POST' && path === '/messages/send') {
      const threadId = typeof body.threadId === 'string' ? body.threadId : undefined;
      let parsed: ReturnType<typeof parseRaw>;
      try {
        parsed = parseRaw(String(body.raw ?? ''));
      } catch (error) {
        return json(response, 400, {
          error: { code: 400, message: `Invalid value for 'raw': ${(error as Error).message}` },
        });
      }
      const id = `sent-${sent.length + 1}`;
      const members = [
        ...mailbox,
        ...sent.map((mail, index) => ({
          threadId: mail.filedIn,
          subject: mail.headers.subject ?? '',
          messageId: `<sent-${index + 1}@stand-in>`,
        })),
      ];
      const filedIn = threadFor(threadId, parsed.headers, members, id);
      if (filedIn === undefined)
        return json(response, 404, { error: { code: 404, message: 'Requested entity was not found.' } });
      sent.push({ threadId, filedIn, ...parsed });
      return json(response, 200, { id, threadId: filedIn, labelIds: ['SENT'] });
    }
    json(response, 404, { error: { code: 404, message: `the stand-in has no ${request.method} ${path}` } });
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    readBody(request).then(
      (body) => {
        const call: StandInCall = { method: request.method ?? 'GET', url: request.url ?? '/', body };
        calls.push(call);
        response.on('finish', () => {
          call.status = response.statusCode;
        });
        if (url.pathname.startsWith(GMAIL_PREFIX)) return gmail(request, url, body, response);
        oauth(url, body, response);
      },
      (error: Error) => json(response, 400, { error: error.message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoints: {
      api: root,
      token: `${root}/token`,
      auth: `${root}/o/oauth2/v2/auth`,
      revoke: `${root}/revoke`,
    },
    clientId,
    clientSecret,
    email,
    calls,
    apiCalls: () =>
      calls
        .filter((call) => call.url.startsWith(GMAIL_PREFIX))
        .map((call) => `${call.method} ${call.url.slice(GMAIL_PREFIX.length)}`),
    sent,
    issueRefreshToken: () => mint('1//', refreshTokens),
    issued,
    expireAccessTokens: () => accessTokens.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
