/**
 * The API client: one `request` that adds the token, turns error responses into ApiError (code, message,
 * request id, details) and an unreachable daemon into ConnectionError. JSON in, JSON out; `stream` hands back
 * a streaming response (logs, events) after the same checks.
 */

export const DEFAULT_URL = 'http://127.0.0.1:7070';

/** An error response from the API: `{"error": {"code", "message", "request_id", "details"?}}`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: Array<{ path: string; message: string }>;
  /** The response body as the API sent it, when it was JSON (printed as is under `--json`). */
  readonly body: unknown;
  constructor(
    status: number,
    code: string,
    message: string,
    requestId: string | undefined,
    details: Array<{ path: string; message: string }> = [],
    body?: unknown,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
    this.body = body;
  }
}

/** The daemon could not be reached at all: `reason` is the socket error's code (ECONNREFUSED, ...). */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  readonly url: string;
  readonly reason: string;
  constructor(url: string, reason: string) {
    super(`cannot reach the Boilerhouse API at ${url}: ${reason}`);
    this.url = url;
    this.reason = reason;
  }
}

export interface ClientOptions {
  /** The daemon's address, with or without a trailing `/api/v1`. */
  url: string;
  token?: string;
  signal?: AbortSignal;
}

export interface RequestOptions {
  /** A JSON body, or a raw text body with its content type. */
  json?: unknown;
  text?: { body: string; contentType: string };
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Builds an API path with each interpolated value URL-encoded: path`/tenants/${tenant}/claim`. */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce(
    (out, part, index) =>
      out + part + (index < values.length ? encodeURIComponent(String(values[index])) : ''),
    '',
  );
}

export class ApiClient {
  /** The daemon's base address, as shown in messages. */
  readonly url: string;
  readonly hasToken: boolean;
  readonly #token: string | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(options: ClientOptions) {
    this.url = normalizeUrl(options.url);
    this.#token = options.token === '' ? undefined : options.token;
    this.hasToken = this.#token !== undefined;
    this.#signal = options.signal;
  }

  /** Sends a request; resolves to the parsed JSON body (undefined for 204), or throws ApiError/ConnectionError. */
  async request<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#send(method, route, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        response.status,
        'bad_response',
        `expected JSON from ${method} ${route}, got: ${firstLine(text)}`,
        response.headers.get('x-request-id') ?? undefined,
      );
    }
  }

  /** Sends a request and returns the response with its body unread, for streaming routes. */
  stream(route: string, options: RequestOptions = {}): Promise<Response> {
    return this.#send('GET', route, options);
  }

  async #send(method: string, route: string, options: RequestOptions): Promise<Response> {
    const url = new URL(`${this.url}/api/v1${route}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.text !== undefined) {
      body = options.text.body;
      headers['content-type'] = options.text.contentType;
    }
    const signals = [options.signal, this.#signal].filter((signal) => signal !== undefined);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body,
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ConnectionError(this.url, networkReason(error));
    }
    if (!response.ok) throw await apiError(response);
    return response;
  }
}

/** `http://host:7070/`, `http://host:7070/api/v1` -> `http://host:7070`. Throws on something not a URL. */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${JSON.stringify(raw)} is not a URL; expected something like ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${JSON.stringify(raw)} is not an http(s) URL; expected something like ${DEFAULT_URL}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

async function apiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  const headerId = response.headers.get('x-request-id') ?? undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (typeof error === 'object' && error !== null && typeof error.message === 'string') {
    const details = Array.isArray(error.details)
      ? error.details.filter(
          (detail): detail is { path: string; message: string } =>
            typeof detail?.path === 'string' && typeof detail?.message === 'string',
        )
      : [];
    return new ApiError(
      response.status,
      typeof error.code === 'string' ? error.code : 'error',
      error.message,
      typeof error.request_id === 'string' ? error.request_id : headerId,
      details,
      body,
    );
  }
  // Not the API's error shape (a proxy in between, or an older daemon): keep what there is.
  const message = text.trim() === '' ? response.statusText || 'no message' : firstLine(text);
  return new ApiError(response.status, statusCode(response.status), message, headerId);
}

function statusCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  return 'error';
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** fetch wraps socket errors as `TypeError: fetch failed` with the real one as its cause. */
function networkReason(error: unknown): string {
  let current = error as { code?: string; message?: string; cause?: unknown } | undefined;
  while (current?.cause !== undefined && current.code === undefined) {
    current = current.cause as typeof current;
  }
  const code = current?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was reset';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'the connection timed out';
  return code ?? current?.message ?? String(error);
}
