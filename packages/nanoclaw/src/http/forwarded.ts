/**
 * Whether a request reached NanoClaw over HTTPS: its own TLS, or `X-Forwarded-Proto: https` set by a proxy
 * the operator trusts (NANOCLAW_TRUSTED_PROXIES, addresses or CIDR ranges of the peer that connects to
 * NanoClaw). The header is believed from those peers only: anyone else could write it.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';

export function trustedProxyList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

export function cameOverHttps(request: IncomingMessage, trusted: BlockList): boolean {
  if ((request.socket as Partial<TLSSocket>).encrypted === true) return true;
  const proto = request.headers['x-forwarded-proto'];
  if (typeof proto !== 'string') return false;
  if (proto.split(',')[0]?.trim().toLowerCase() !== 'https') return false;
  return peerTrusted(request.socket.remoteAddress, trusted);
}

function peerTrusted(address: string | undefined, trusted: BlockList): boolean {
  if (address === undefined) return false;
  // A dual-stack listener shows IPv4 peers as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return trusted.check(mapped, 'ipv4');
  return trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
