/**
 * Reads a model answer's usage as the answer passes through the proxy, without holding it back: an SSE
 * stream is parsed line by line (only `message_start` and `message_delta` events carry usage; the rest is
 * looked at for its type and let go), a JSON answer is kept only up to a bound for its `usage` at the end.
 * `message_start` gives the input and cache counts; each `message_delta` restates the counts it carries
 * (output_tokens is cumulative), so the last value of each field is the request's. Not kit/sse's parser:
 * that keeps each message whole, and a text delta can be megabytes; here a line past MAX_LINE_CHARS is let
 * go as it streams, and most lines after a substring test.
 */
import { StringDecoder } from 'node:string_decoder';
import { NO_USAGE, type UsageTotals } from '../store/usage.ts';

/** A line longer than this (a huge text delta) cannot be an event with usage: skipped, not kept. */
const MAX_LINE_CHARS = 256 * 1024;
/** A non-streamed answer beyond this is not parsed for usage (a Messages answer is far smaller). */
const MAX_JSON_CHARS = 8 * 1024 * 1024;

interface WireUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export class UsageMeter {
  readonly #streamed: boolean;
  readonly #status: number;
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';
  #skipping = false;
  #json = '';
  #usage: UsageTotals = { ...NO_USAGE, requests: 1 };
  #error: boolean;

  constructor(status: number, contentType: string | undefined) {
    this.#status = status;
    this.#streamed = (contentType ?? '').toLowerCase().startsWith('text/event-stream');
    this.#error = status >= 400;
  }

  write(chunk: Buffer): void {
    const text = this.#decoder.write(chunk);
    if (!this.#streamed) {
      if (this.#status < 400 && this.#json.length + text.length <= MAX_JSON_CHARS) this.#json += text;
      return;
    }
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      const piece = text.slice(start, newline);
      start = newline + 1;
      if (this.#skipping) this.#skipping = false;
      else this.#line(this.#pending + piece);
      this.#pending = '';
    }
    if (this.#skipping) return;
    this.#pending += text.slice(start);
    if (this.#pending.length > MAX_LINE_CHARS) {
      this.#pending = '';
      this.#skipping = true;
    }
  }

  /**
   * What the request used, as far as it got. `complete` is false when the answer was cut off (the
   * agent went away, the endpoint broke off): counted as an error, with the tokens seen until then.
   */
  finish(complete: boolean): UsageTotals {
    if (!this.#streamed && this.#status < 400 && complete) {
      try {
        this.#take((JSON.parse(this.#json + this.#decoder.end()) as { usage?: WireUsage }).usage);
      } catch {
        this.#error = true; // not a Messages answer: nothing to count but the request
      }
    }
    return { ...this.#usage, errors: this.#error || !complete ? 1 : 0 };
  }

  #line(line: string): void {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    // Cheap test first: most events are content deltas, parsed by nobody here.
    if (!data.includes('"message_start"') && !data.includes('"message_delta"') && !data.includes('"error"'))
      return;
    let event: { type?: string; message?: { usage?: WireUsage }; usage?: WireUsage };
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (event.type === 'message_start') this.#take(event.message?.usage);
    else if (event.type === 'message_delta') this.#take(event.usage);
    else if (event.type === 'error') this.#error = true;
  }

  #take(usage: WireUsage | undefined): void {
    if (usage === undefined) return;
    const count = (value: number | undefined, before: number) =>
      typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : before;
    this.#usage = {
      ...this.#usage,
      inputTokens: count(usage.input_tokens, this.#usage.inputTokens),
      outputTokens: count(usage.output_tokens, this.#usage.outputTokens),
      cacheCreationTokens: count(usage.cache_creation_input_tokens, this.#usage.cacheCreationTokens),
      cacheReadTokens: count(usage.cache_read_input_tokens, this.#usage.cacheReadTokens),
    };
  }
}
