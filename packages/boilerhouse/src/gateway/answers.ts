/**
 * The answers the gateway gives itself, in the API's error shape. An unknown tenant, an unknown host name
 * and a wrong, expired or other tenant's link all get the very same 401 (`refusal`): a caller cannot tell
 * who exists.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface Answer {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export const REFUSAL: Answer = {
  status: 401,
  code: 'unauthorized',
  message: 'this address needs a valid access link for it (ask its operator for one)',
};

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function bodyOf(answer: Answer): string {
  return `${JSON.stringify({ error: { code: answer.code, message: answer.message } })}\n`;
}

export function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = bodyOf(answer);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...answer.headers,
  });
  res.end(body);
}

/** The same answer on a socket that asked for an upgrade, then the socket closes. */
export function sendOnSocket(socket: Duplex, answer: Answer): void {
  const body = bodyOf(answer);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
    ...answer.headers,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? 'Error'}\r\n${lines.join('')}\r\n${body}`,
  );
}
