/**
 * DNS rebinding: a page on evil.example can point its name at 127.0.0.1 and have the visitor's browser
 * talk to the web chat as a same-origin page of evil.example. The browser still says `Host: evil.example`,
 * so every request (but /health, which health checks send without a Host) must name a host the chat is
 * served on: loopback names, an IP address (a browser only sends one when the address itself is in its
 * address bar, which no rebinding can fake), or a name the operator listed (NANOCLAW_WEB_HOSTS). The port
 * is not compared: under Boilerhouse the chat is reached on a published port, not the one it binds.
 */
import { isIP } from 'node:net';

/** The host name of a `Host` header, lowercased, without port, brackets or a trailing dot. */
export function hostName(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(value);
  if (bracketed !== null) return bracketed[1];
  const plain = /^([^:[\]\s/]+?)\.?(?::\d+)?$/.exec(value);
  return plain?.[1];
}

/** Whether a request naming this `Host` is one for the chat. */
export function hostAllowed(header: string | undefined, listed: ReadonlySet<string>): boolean {
  if (header === undefined) return false;
  const name = hostName(header);
  if (name === undefined || name === '') return false;
  if (isIP(name) !== 0) return true;
  return name === 'localhost' || name.endsWith('.localhost') || listed.has(name);
}
