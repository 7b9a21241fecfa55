/**
 * Reads a text/event-stream (the daemon's events stream, the host's chat stream) into messages: a blank
 * line ends a message, `data:` lines join with \n, comments and `retry:` are dropped. The parsing is
 * eventsource-parser's (spec-complete: CR, LF and CRLF lines split anywhere, a BOM, `id:` holding NUL
 * ignored), rather than a copy of our own in each reader. `id` and `event` are the message's own fields,
 * not carried over from earlier messages: readers that resume take the id from the data.
 */
import { createParser } from 'eventsource-parser';

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export class SseParser {
  readonly #completed: SseMessage[] = [];
  readonly #parser = createParser({
    onEvent: ({ id, event, data }) => this.#completed.push({ id, event, data }),
  });

  /** Feeds text; returns the messages it completed. */
  push(text: string): SseMessage[] {
    this.#parser.feed(text);
    return this.#completed.splice(0);
  }
}

/** The messages of a response body as they arrive; leaving the loop early cancels the body. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
