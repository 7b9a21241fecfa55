/**
 * The model proxy's run tokens: 32 random bytes per agent run, bound to the run's group, held only in this
 * process's memory (by digest, so a lookup compares no secret) and revoked when the run ends. A token is
 * what an agent container gets instead of the model's credential.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface RunToken {
  /** What the agent sends as its key (`x-api-key`, or `Authorization: Bearer`). */
  readonly value: string;
  /** Ends the token; the proxy refuses it from now on. */
  revoke(): void;
}

export class RunTokens {
  /** sha256 of each live token -> its group. */
  readonly #live = new Map<string, string>();

  issue(group: string): RunToken {
    const value = randomBytes(32).toString('base64url');
    const key = digest(value);
    this.#live.set(key, group);
    return { value, revoke: () => this.#live.delete(key) };
  }

  /** True when `value` is a live token of `group`. */
  valid(group: string, value: string): boolean {
    return this.#live.get(digest(value)) === group;
  }

  /** Tokens not yet revoked. */
  get size(): number {
    return this.#live.size;
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
