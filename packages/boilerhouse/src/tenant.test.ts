import { expect, test } from 'vitest';
import { BadRequestError } from './errors.ts';
import { parseTenantId } from './tenant.ts';

test.each(['alice', '+4915112345678', 'ana.maria@example.org', 'user_42-x', 'a'.repeat(128)])(
  'accepts %s',
  (id) => {
    expect(parseTenantId(id)).toBe(id);
  },
);

test.each(['', 'a b', '../etc', 'a/b', '.', '..', 'x'.repeat(129), 'ü', 'a\u0000b', 'tab\there'])(
  'refuses %j with a clear error',
  (id) => {
    expect(() => parseTenantId(id)).toThrow(BadRequestError);
    expect(() => parseTenantId(id)).toThrow(/is not valid: use 1-128 letters, digits and \. _ @ \+ -/);
  },
);
