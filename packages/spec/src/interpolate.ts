/**
 * `${VAR}` substitution in workload values, as docker-compose does it, filled from the environment at load
 * time. `${tenantId}` is left in place: it is only known when a tenant claims an instance. Only variables the
 * operator allows (see workload-env.ts) are read: any other reads as unset, so a default applies (with a
 * warning saying why) and a reference without one is an error naming the setting to change.
 *
 *   ${VAR}            the variable; an error when it is not set
 *   ${VAR:-default}   the default when VAR is unset or empty
 *   ${VAR-default}    the default when VAR is unset
 *   ${VAR:?message}   an error with that message when VAR is unset or empty
 *   ${VAR?message}    an error with that message when VAR is unset
 *   $$                a literal `$`
 *
 * A `$` not followed by `{` or `$` is kept as it is, so shell snippets such as `$HOME` pass through.
 */

import type { WorkloadEnvironment } from './workload-env.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Hears why a default was used: the variable is not one the workload may read. */
export type Warn = (message: string) => void;

/** Placeholders resolved at claim time rather than load time. */
export const CLAIM_TIME_VARIABLES: ReadonlySet<string> = new Set(['tenantId']);

export class InterpolationError extends Error {}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])(.*))?$/s;

export function interpolate(text: string, env: WorkloadEnvironment, warn: Warn = () => {}): string {
  if (!text.includes('$')) return text;
  let out = '';
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar === -1) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      index = dollar + 2;
    } else if (next === '{') {
      const close = findClosingBrace(text, dollar + 2);
      if (close === -1) throw new InterpolationError(`unclosed "\${" at character ${dollar + 1}`);
      out += resolveExpression(text.slice(dollar + 2, close), env, warn);
      index = close + 1;
    } else {
      out += '$';
      index = dollar + 1;
    }
  }
  return out;
}

/** Finds the `}` that closes an expression, allowing nested `${...}` inside a default. */
function findClosingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function resolveExpression(expression: string, env: WorkloadEnvironment, warn: Warn): string {
  const match = EXPRESSION.exec(expression);
  if (match === null) {
    const name = expression.split(/[:?-]/)[0] ?? '';
    if (!VARIABLE_NAME.test(name))
      throw new InterpolationError(`"\${${expression}}" is not a valid variable name`);
    throw new InterpolationError(`"\${${expression}}" uses an unknown operator; use :- - :? or ?`);
  }
  const [, name = '', operator, argument = ''] = match;
  if (CLAIM_TIME_VARIABLES.has(name) && operator === undefined) return `\${${name}}`;
  const access = env.access(name);
  const hasDefault = operator === ':-' || operator === '-';
  if (!access.allowed && !hasDefault)
    throw new InterpolationError(`\${${name}} is not allowed: ${access.reason}`);
  if (!access.allowed)
    warn(`\${${expression}} uses its default: ${name} is not allowed here (${access.reason})`);
  const value = access.allowed ? access.value : undefined;
  const unset = value === undefined;
  const empty = unset || value === '';
  switch (operator) {
    case undefined:
      if (unset)
        throw new InterpolationError(
          `environment variable ${name} is not set (write \${${name}:-default} to give a default)`,
        );
      return value as string;
    case ':-':
      return empty ? interpolate(argument, env, warn) : (value as string);
    case '-':
      return unset ? interpolate(argument, env, warn) : (value as string);
    case ':?':
      if (empty)
        throw new InterpolationError(
          `environment variable ${name} is required: ${argument || 'it is unset or empty'}`,
        );
      return value as string;
    default:
      if (unset)
        throw new InterpolationError(
          `environment variable ${name} is required: ${argument || 'it is unset'}`,
        );
      return value as string;
  }
}

/** The variable a value refers to when it is exactly one `${VAR}` reference, else undefined. */
export function soleVariableReference(text: string): string | undefined {
  const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(text.trim());
  return match?.[1];
}
