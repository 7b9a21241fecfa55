/**
 * Host names of the gateway's host form: `<label>.<BOILERHOUSE_GATEWAY_DOMAIN>`, one label per (workload,
 * tenant), so each tenant's pages are an origin of their own. Tenant ids may hold `@ + .` and capitals, which
 * a host name cannot (or folds), so the label is a readable part (lower-cased, other characters as `-`) and
 * 100 bits of SHA-256 over the exact pair: two pairs never share a label however their readable parts fold.
 */
import { createHash } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const READABLE_CHARS = 24;
const DIGEST_CHARS = 20;

export function hostLabel(workload: string, tenant: string): string {
  const digest = createHash('sha256').update(`${workload}\0${tenant}`).digest();
  let hash = '';
  for (let i = 0; hash.length < DIGEST_CHARS; i++) {
    // 5 bits per character, read across byte boundaries.
    const bit = i * 5;
    const byte = bit >> 3;
    const pair = ((digest[byte] ?? 0) << 8) | (digest[byte + 1] ?? 0);
    hash += BASE32[(pair >> (11 - (bit & 7))) & 31];
  }
  const readable = tenant
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, READABLE_CHARS)
    .replace(/-+$/, '');
  return readable === '' ? `t-${hash}` : `${readable}-${hash}`;
}

/** The host name a tenant's pages are served on, or undefined without a gateway domain. */
export function tenantHost(workload: string, tenant: string, domain: string | null): string | undefined {
  return domain === null ? undefined : `${hostLabel(workload, tenant)}.${domain}`;
}
