import { expect, test } from 'vitest';
import { ApiError, ConnectionError } from './client.ts';
import { failureLine } from './failure.ts';

const sent = { tokenSent: true };

test('an API error names the status, code, message and request id on one line', () => {
  const error = new ApiError(409, 'conflict', 'alice holds echo-1', 'req-7f3a');
  expect(failureLine('bh', 'claim alice', error, sent)).toBe(
    'bh: claim alice: 409 conflict: alice holds echo-1 (request req-7f3a)\n',
  );
});

test('a message over several lines still prints as one', () => {
  const error = new ApiError(500, 'internal', 'first\n  second', undefined);
  expect(failureLine('bh', 'status', error, sent)).toBe('bh: status: 500 internal: first second\n');
});

test('401 says whether the token was missing or refused, and names BOILERHOUSE_TOKEN', () => {
  const error = new ApiError(401, 'unauthorized', 'the token is not valid', 'r1');
  expect(failureLine('bh', 'tenants', error, { tokenSent: false })).toBe(
    'bh: tenants: 401 unauthorized: the token is not valid; no token was sent: set BOILERHOUSE_TOKEN or pass --token (request r1)\n',
  );
  expect(failureLine('bh', 'tenants', error, { tokenSent: true })).toMatch(
    /the token was refused \(wrong, expired or revoked\): check BOILERHOUSE_TOKEN/,
  );
});

test('403 keeps the message naming the scope', () => {
  const error = new ApiError(403, 'forbidden', 'this route needs the "admin" scope', 'r2');
  expect(failureLine('bh', 'tokens list', error, sent)).toBe(
    'bh: tokens list: 403 forbidden: this route needs the "admin" scope (request r2)\n',
  );
});

test('a refused connection names the URL and suggests boilerhouse serve', () => {
  const error = new ConnectionError('http://127.0.0.1:7070', 'connection refused');
  expect(failureLine('boilerhouse', 'status', error, sent)).toBe(
    'boilerhouse: status: cannot reach the Boilerhouse API at http://127.0.0.1:7070: connection refused; is the daemon running? Start it with "boilerhouse serve", or point BOILERHOUSE_URL (or --url) at it\n',
  );
});
