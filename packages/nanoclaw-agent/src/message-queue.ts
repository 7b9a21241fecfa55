/**
 * The user turns of one run, in order: the first prompt, then each follow-up. The SDK reads it as its
 * streaming input, so follow-ups join the running session; ending it lets the SDK finish and exit.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    if (this.#ended) throw new Error('message queue: push after end');
    this.#items.push(item);
    this.#wake?.();
  }

  /** No more turns: the iteration ends once the queued ones are read. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  get ended(): boolean {
    return this.#ended;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      const next = this.#items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
