/**
 * What a tenant may store as secrets: environment variable names to strings, bounded in number and size.
 * Errors name the offending secret and never show a value.
 */
import { BadRequestError } from '../errors.ts';

/** An environment variable name; it also becomes a file name, so it is never `.`, `..` or a path. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_SECRETS = 256;
export const MAX_VALUE_BYTES = 64 * 1024;
// A file name is at most 255 bytes.
const MAX_NAME_LENGTH = 255;

/** The checked values, from untrusted JSON. */
export function checkSecretValues(input: unknown): Record<string, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BadRequestError(`"values" must be an object of names to strings, got ${kindOf(input)}`);
  }
  const entries = Object.entries(input);
  if (entries.length > MAX_SECRETS) {
    throw new BadRequestError(
      `at most ${MAX_SECRETS} secrets per tenant and workload, got ${entries.length}`,
    );
  }
  for (const [name, value] of entries) {
    if (!SECRET_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
      throw new BadRequestError(
        `secret name ${JSON.stringify(name.slice(0, 80))} is not valid: use up to ${MAX_NAME_LENGTH} letters, ` +
          'digits and _, not starting with a digit (an environment variable name)',
      );
    }
    if (typeof value !== 'string') {
      throw new BadRequestError(`secret ${name} must be a string, got ${kindOf(value)}`);
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_VALUE_BYTES) {
      throw new BadRequestError(`secret ${name} is ${bytes} bytes, over the limit of ${MAX_VALUE_BYTES}`);
    }
    // No environment variable can hold a NUL, and a lone surrogate would not survive UTF-8.
    if (value.includes('\0')) throw new BadRequestError(`secret ${name} contains a NUL character`);
    if (!value.isWellFormed()) throw new BadRequestError(`secret ${name} is not valid Unicode`);
  }
  // fromEntries defines own properties, so even a secret named __proto__ stays a plain entry.
  return Object.fromEntries(entries) as Record<string, string>;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
