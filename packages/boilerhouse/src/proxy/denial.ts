/**
 * A request the filtered socket refuses. It carries the HTTP status, a reason from a small fixed set (a
 * metric label) and a message for the caller; Docker clients print `message` ("Error response from
 * daemon: ..."), so it says what was wrong and where. Messages quote the caller's field names and values
 * that name things (images, paths, modes), never environment values or commands.
 */
export type DenialReason =
  | 'malformed_request'
  | 'path'
  | 'endpoint'
  | 'query'
  | 'body'
  | 'body_too_large'
  | 'create_policy'
  | 'image'
  | 'bind'
  | 'container_limit'
  | 'not_own_container'
  | 'exec_disabled'
  /** The body carries the value of one of the tenant's secrets. */
  | 'secret'
  /** Not a refusal: the engine could not be reached or failed (never counted). */
  | 'engine';

export interface DenialOptions {
  /** Worded as the engine words it, without the `boilerhouse:` mark (a 404 must not tell foreign from missing). */
  bare?: boolean;
  /** Not a refusal, only an answer (a container that does not exist): neither logged nor counted. */
  quiet?: boolean;
}

export class ProxyDenial extends Error {
  readonly status: number;
  readonly reason: DenialReason;
  readonly bare: boolean;
  readonly quiet: boolean;
  constructor(status: number, reason: DenialReason, message: string, options: DenialOptions = {}) {
    super(message);
    this.name = 'ProxyDenial';
    this.status = status;
    this.reason = reason;
    this.bare = options.bare ?? false;
    this.quiet = options.quiet ?? false;
  }

  /** The body Docker clients read the error from. */
  body(): string {
    return JSON.stringify({ message: this.bare ? this.message : `boilerhouse: ${this.message}` });
  }
}

/** A caller's value in a message: JSON-quoted, and cut short so that no message carries a whole payload. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
