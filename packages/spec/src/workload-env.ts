/**
 * The part of the daemon's environment a workload file may read (`${VAR}`, an `environment:` key with no
 * value, a sink credential reference): only what the operator lists in BOILERHOUSE_WORKLOAD_ENV. Workload
 * authors are trusted less than the operator, so a variable nobody listed reads as unset to them.
 *
 *   BOILERHOUSE_WORKLOAD_ENV=ANTHROPIC_API_KEY,NANOCLAW_*
 *
 * - Names are exact; `NAME_*` lists a family by its prefix, which must end in `_` so that it names a family
 *   (`NANOCLAW_*`), never "everything starting with N". `*` alone is refused: that is the whole environment.
 * - The daemon's own settings (`BOILERHOUSE_*`) and the engine it drives (`DOCKER_*`, e.g. DOCKER_HOST) are
 *   never given, even when listed: listing one is a setting error, so the operator hears of it at start.
 * - Cloud credentials the daemon's sinks may use (`AWS_*`) are given only when listed by full name: a prefix
 *   covering them is refused, so `A..._*` families never pick up a secret by accident.
 */
import type { Environment } from './interpolate.ts';

export const WORKLOAD_ENV_SETTING = 'BOILERHOUSE_WORKLOAD_ENV';

/** Never given to a workload, listed or not. */
const DAEMON_FAMILIES = ['BOILERHOUSE_', 'DOCKER_'];
/** Given only when listed by full name. */
const CREDENTIAL_FAMILIES = ['AWS_'];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PREFIX = /^([A-Za-z_][A-Za-z0-9_]*_)\*$/;

export type VariableAccess =
  | { allowed: true; value: string | undefined }
  | { allowed: false; reason: string };

/** BOILERHOUSE_WORKLOAD_ENV holds an entry that cannot be honoured; `message` names each one. */
export class WorkloadEnvSettingError extends Error {}

export class WorkloadEnvironment {
  readonly #env: Environment;
  readonly #names: ReadonlySet<string>;
  readonly #prefixes: readonly string[];

  constructor(env: Environment, names: ReadonlySet<string>, prefixes: readonly string[]) {
    this.#env = env;
    this.#names = names;
    this.#prefixes = prefixes;
  }

  /** Whether a workload may read `name`, and its value when it may (undefined: unset). */
  access(name: string): VariableAccess {
    const family = DAEMON_FAMILIES.find((prefix) => name.startsWith(prefix));
    if (family !== undefined) {
      return {
        allowed: false,
        reason: `${family}* variables are the daemon's own settings and are never given to workloads`,
      };
    }
    if (this.#names.has(name) || this.#prefixes.some((prefix) => name.startsWith(prefix))) {
      return { allowed: true, value: this.#env[name] };
    }
    return { allowed: false, reason: `add ${name} to ${WORKLOAD_ENV_SETTING}` };
  }

  /** The allowed variables that are set: what code reading a listed name later (sink credentials) sees. */
  values(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#env)) {
      const access = value === undefined ? undefined : this.access(name);
      if (access?.allowed && access.value !== undefined) out[name] = access.value;
    }
    return out;
  }
}

/** The view of `env` its BOILERHOUSE_WORKLOAD_ENV allows; throws WorkloadEnvSettingError on a bad entry. */
export function workloadEnvironment(env: Environment): WorkloadEnvironment {
  const names = new Set<string>();
  const prefixes: string[] = [];
  const problems: string[] = [];
  const entries = (env[WORKLOAD_ENV_SETTING] ?? '').split(',').map((entry) => entry.trim());
  for (const entry of entries.filter((entry) => entry !== '')) {
    const problem = entryProblem(entry);
    if (problem !== undefined) problems.push(`"${entry}" ${problem}`);
    else if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    else names.add(entry);
  }
  if (problems.length > 0)
    throw new WorkloadEnvSettingError(`${WORKLOAD_ENV_SETTING}: ${problems.join('; ')}`);
  return new WorkloadEnvironment(env, names, prefixes);
}

function entryProblem(entry: string): string | undefined {
  if (entry === '*')
    return "would give workloads the daemon's whole environment; list names or NAME_* prefixes";
  const prefix = PREFIX.exec(entry)?.[1];
  if (prefix === undefined && !NAME.test(entry)) {
    return entry.endsWith('*')
      ? 'is not a NAME_* prefix: a prefix is letters, digits and _, ending in _ before the *'
      : 'is not a variable name: use letters, digits and _';
  }
  const stem = prefix ?? entry;
  const covers = (family: string) =>
    stem.startsWith(family) || (prefix !== undefined && family.startsWith(prefix));
  const daemon = DAEMON_FAMILIES.find(covers);
  if (daemon !== undefined)
    return `names the daemon's own settings (${daemon}*), which are never given to workloads`;
  const credential = prefix === undefined ? undefined : CREDENTIAL_FAMILIES.find(covers);
  if (credential !== undefined)
    return `would give workloads ${credential}* credentials by prefix; list each one by its full name`;
  return undefined;
}
