/**
 * A tenant's secrets never go into a child's configuration. What a create or exec body carries (Env, Cmd,
 * Entrypoint, Labels, and every other string the engine would keep) is stored by the engine, shown by
 * inspect and handed to whatever runs in the child, which an agent talked into anything may be. So a body
 * holding the value of any secret the instance's current tenant stored is refused, naming where (the
 * variable, field or label) and which secret, never the value.
 *
 * Values shorter than MIN_MATCHED_LENGTH are not looked for: a short value (`1`, `true`, `en-GB`) turns up
 * in ordinary commands and would refuse them for nothing, and is no key worth stealing.
 */
import { ProxyDenial, quote } from './denial.ts';

export const MIN_MATCHED_LENGTH = 8;

/** Throws when any string in `body` contains the value of one of `secrets` (name -> value). */
export function refuseSecrets(body: unknown, secrets: ReadonlyMap<string, string>, what: string): void {
  const values = [...secrets].filter(([, value]) => value.length >= MIN_MATCHED_LENGTH);
  if (values.length === 0) return;
  const found: string[] = [];
  const look = (text: string, where: (value: string) => string) => {
    for (const [name, value] of values) {
      if (text.includes(value)) found.push(`${where(value)} holds the value of the tenant's secret ${name}`);
    }
  };
  walk(body, '', look);
  if (found.length > 0) {
    throw new ProxyDenial(
      403,
      'secret',
      `${what} refused: ${found.join('; ')}. A tenant's secrets stay out of containers' configuration; the instance reads them from its secrets volume`,
    );
  }
}

type Look = (text: string, where: (value: string) => string) => void;

function walk(value: unknown, path: string, look: Look): void {
  if (typeof value === 'string') {
    look(value, (secret) => describe(path, value, secret));
    return;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, `${path}[${index}]`, look);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    // A key is named by where it is only: the key itself holds the value.
    look(key, () => `a key of ${path || 'the body'}`);
    walk(item, at, look);
  }
}

/** `Env[2]` says which variable (its name, unless the name holds the value); any other field by its path. */
function describe(path: string, text: string, secret: string): string {
  const name = text.split('=')[0] as string;
  if (/^Env\[\d+\]$/.test(path) && !name.includes(secret)) return `Env variable ${quote(name)} (${path})`;
  return path;
}
