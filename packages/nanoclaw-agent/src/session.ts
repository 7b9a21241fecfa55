/**
 * Resuming the group's session. A session id the SDK no longer knows (its transcript was archived, the
 * session dir was reset, or it came from another machine) makes the CLI fail before its first turn with
 * "No conversation found with session ID"; the run then starts a fresh session instead of failing.
 */

/** Whether a failed first attempt means "this session id is stale", from the CLI's own error text. */
export function isStaleSessionError(text: string, sessionId: string): boolean {
  return text.includes('No conversation found with session ID') && text.includes(sessionId);
}

/** The turns an attempt consumed from the queue, so a retry with a fresh session can replay them. */
export class ReplayLog<T> {
  readonly consumed: T[] = [];

  /** Yields `replay` first, then the queue's turns, recording each one handed out. */
  async *feed(replay: readonly T[], queue: AsyncIterable<T>): AsyncGenerator<T> {
    for (const turn of replay) {
      this.consumed.push(turn);
      yield turn;
    }
    for await (const turn of queue) {
      this.consumed.push(turn);
      yield turn;
    }
  }
}
