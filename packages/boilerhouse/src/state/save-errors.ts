/**
 * Why a save or a restore of tenant state failed, told apart so that operators can act on it: an object of
 * a save that is damaged or missing (restore an older save), a sink that cannot be reached (wait for it; the
 * daemon retries), a disk with no space left (free some), or anything else.
 */
import { BoilerhouseError } from '../errors.ts';
import { SinkNotFoundError } from './sinks/sink.ts';

export const STATE_FAILURE_CAUSES = ['damaged', 'sink_unavailable', 'no_space', 'other'] as const;
export type StateFailureCause = (typeof STATE_FAILURE_CAUSES)[number];

/**
 * An object of a save (HEAD, a manifest, a pack or a blob) that does not hold what it should, or is gone.
 * Nothing is restored from it and nothing deletes it; an older save can be made current instead.
 */
export class DamagedSaveError extends BoilerhouseError {
  /** The object's key in the sink. */
  readonly key: string;
  constructor(key: string, message: string) {
    super(502, 'save_damaged', message);
    this.name = 'DamagedSaveError';
    this.key = key;
  }
}

/** Node's codes for a connection that could not be made or was lost. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

export function failureCause(error: unknown): StateFailureCause {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof DamagedSaveError || cause instanceof SinkNotFoundError) return 'damaged';
    const { code, status } = cause as { code?: unknown; status?: unknown };
    if (typeof code === 'string' && NO_SPACE.has(code)) return 'no_space';
    if (typeof code === 'string' && UNREACHABLE.has(code)) return 'sink_unavailable';
    if (typeof status === 'number' && status >= 500) return 'sink_unavailable';
  }
  return 'other';
}

/** The key of the sink object an error is about, when it is about one that is damaged or missing. */
export function damagedObject(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof DamagedSaveError || cause instanceof SinkNotFoundError) return cause.key;
  }
  return undefined;
}
