/**
 * The typed API client (openapi-fetch over the generated paths): sends the session's token, turns an error
 * body into an ApiError, and ends the session on a 401 so the login page can say why.
 */
import createClient from 'openapi-fetch';
import { session } from '../session.ts';
import type { paths } from './schema.d.ts';
import type { ErrorBody } from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;

  constructor(status: number, body: unknown) {
    const error = (body as Partial<ErrorBody> | undefined)?.error;
    super(error?.message ?? `the daemon answered ${status}`);
    this.status = status;
    this.code = error?.code ?? 'http_error';
    this.requestId = error?.request_id;
  }
}

export const api = createClient<paths>({ baseUrl: window.location.origin });

api.use({
  onRequest({ request }) {
    const token = session.token();
    if (token !== null) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  async onResponse({ response }) {
    if (response.status === 401 && session.token() !== null) {
      const body = await response
        .clone()
        .json()
        .catch(() => undefined);
      session.logout(`The daemon refused the token: ${new ApiError(401, body).message}. Log in again.`);
    }
    return response;
  },
});

/** The body of a successful call; throws ApiError otherwise. */
export async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data: body, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error);
  return body as T;
}

/** A streaming GET (event stream, logs) with the session's token; throws ApiError when it is refused. */
export async function openStream(path: string, headers: Record<string, string>, signal: AbortSignal) {
  const token = session.token();
  const response = await fetch(path, {
    headers: { ...headers, ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    signal,
  });
  if (!response.ok || response.body === null) {
    const body = await response.json().catch(() => undefined);
    if (response.status === 401)
      session.logout(`The daemon refused the token: ${new ApiError(401, body).message}.`);
    throw new ApiError(response.status, body);
  }
  return response.body.pipeThrough(new TextDecoderStream()).getReader();
}
