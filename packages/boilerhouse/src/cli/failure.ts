/**
 * The one line a failed command prints: `bh: claim alice: 409 conflict: ... (request 7f3a...)`. It says what
 * failed, the API's code and message, the request id to find in the daemon's log, and for the failures a
 * user can fix on their side (no daemon, no token, missing scope) what to do. An error's details (one per
 * problem in a workload file) are printed before it, on stdout, by the runner.
 */
import { ApiError, ConnectionError } from './client.ts';

export interface FailureContext {
  /** A token was sent with the request (set but refused, rather than missing). */
  tokenSent: boolean;
}

export function failureLine(prog: string, label: string, error: unknown, context: FailureContext): string {
  return `${oneLine(`${prog}: ${label}: ${failureReason(error, context)}`)}\n`;
}

export function failureReason(error: unknown, context: FailureContext): string {
  if (error instanceof ApiError) {
    let reason = `${error.status} ${error.code}: ${error.message}`;
    if (error.status === 401) {
      reason += context.tokenSent
        ? '; the token was refused (wrong, expired or revoked): check BOILERHOUSE_TOKEN or --token'
        : '; no token was sent: set BOILERHOUSE_TOKEN or pass --token';
    } else if (error.status === 403 && !/scope|limited to/i.test(error.message)) {
      reason += '; the token lacks the scope this needs';
    }
    return error.requestId === undefined ? reason : `${reason} (request ${error.requestId})`;
  }
  if (error instanceof ConnectionError) {
    const hint =
      error.reason === 'connection refused'
        ? 'is the daemon running? Start it with "boilerhouse serve", or point BOILERHOUSE_URL (or --url) at it'
        : 'check BOILERHOUSE_URL (or --url)';
    return `${error.message}; ${hint}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
