/**
 * Reads a text/event-stream (the events stream) from text chunks as they arrive: messages are separated
 * by a blank line, `data:` lines join with newlines, lines starting with `:` are keep-alive comments.
 */
export interface SseMessage {
  id: string | undefined;
  data: string;
}

export class SseParser {
  #buffer = '';

  /** The messages completed by this chunk. */
  push(chunk: string): SseMessage[] {
    this.#buffer += chunk;
    const blocks = this.#buffer.replaceAll('\r\n', '\n').split('\n\n');
    this.#buffer = blocks.pop() ?? '';
    const messages: SseMessage[] = [];
    for (const block of blocks) {
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) messages.push({ id, data: data.join('\n') });
    }
    return messages;
  }
}
