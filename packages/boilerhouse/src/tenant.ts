/** Tenant ids: what callers may use, checked at the edge. They never become part of a path. */
import { BadRequestError } from './errors.ts';

export const TENANT_ID = /^[A-Za-z0-9._@+-]{1,128}$/;

/** Phone numbers (`+4915112345678`) and e-mail addresses (`ana@example.org`) are common tenant ids. */
export function parseTenantId(value: string): string {
  if (!TENANT_ID.test(value) || value === '.' || value === '..') {
    throw new BadRequestError(
      `tenant id ${JSON.stringify(value.slice(0, 140))} is not valid: use 1-128 letters, digits and . _ @ + -`,
    );
  }
  return value;
}
