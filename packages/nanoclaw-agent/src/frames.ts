/**
 * The agent's results on stdout (AGENT-PROTOCOL.md, "Output"): each one line `OUTPUT_START`, one line of
 * JSON, one line `OUTPUT_END`; every other line is log text. The one definition of a frame: the agent
 * writes with formatFrame, the host reads with FrameParser (`@boilerhouse/nanoclaw-agent/frames`). Pure.
 */

export const OUTPUT_START = '---NANOCLAW_OUTPUT_START---';
export const OUTPUT_END = '---NANOCLAW_OUTPUT_END---';

/** A frame as the agent writes it. */
export type AgentOutput =
  | { status: 'success'; result: string | null; newSessionId: string }
  | { status: 'error'; result: null; error: string; newSessionId: string | null };

/** A frame as parseOutput accepts it: a missing result or session id reads as null, `error` may be left out. */
export interface ParsedOutput {
  status: 'success' | 'error';
  result: string | null;
  newSessionId: string | null;
  error?: string;
}

/** The three lines of one frame. JSON.stringify never emits a raw newline, so the payload is one line. */
export function formatFrame(output: AgentOutput): string {
  return `${OUTPUT_START}\n${JSON.stringify(output)}\n${OUTPUT_END}\n`;
}

/** Checks a frame's JSON against the protocol; a string says what is wrong. */
export function parseOutput(body: string): ParsedOutput | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not an object';
  const frame = value as Record<string, unknown>;
  if (frame.status !== 'success' && frame.status !== 'error') return 'status must be "success" or "error"';
  if (frame.result !== null && frame.result !== undefined && typeof frame.result !== 'string') {
    return 'result must be a string or null';
  }
  const session = frame.newSessionId;
  if (session !== null && session !== undefined && typeof session !== 'string') {
    return 'newSessionId must be a string or null';
  }
  return {
    status: frame.status,
    result: typeof frame.result === 'string' ? frame.result : null,
    newSessionId: typeof session === 'string' ? session : null,
    ...(typeof frame.error === 'string' ? { error: frame.error } : {}),
  };
}

export interface FrameHandlers {
  output(output: ParsedOutput): void;
  /** A line that is not part of a frame, or a frame that did not parse (with why). */
  log(line: string): void;
}

/** Feeds stdout text in any chunking; calls back per complete frame and per log line. */
export class FrameParser {
  readonly #handlers: FrameHandlers;
  #partial = '';
  #frame: string[] | undefined;

  constructor(handlers: FrameHandlers) {
    this.#handlers = handlers;
  }

  push(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#line(line.replace(/\r$/, ''));
  }

  /** At end of stream: a trailing unterminated line, or an unfinished frame, is logged. */
  end(): void {
    if (this.#partial !== '') this.#line(this.#partial);
    this.#partial = '';
    if (this.#frame !== undefined) {
      this.#handlers.log(`[host] output frame not closed before the stream ended: ${this.#frame.join(' ')}`);
      this.#frame = undefined;
    }
  }

  #line(line: string): void {
    if (this.#frame === undefined) {
      if (line === OUTPUT_START) this.#frame = [];
      else this.#handlers.log(line);
      return;
    }
    if (line !== OUTPUT_END) {
      this.#frame.push(line);
      return;
    }
    const body = this.#frame.join('\n');
    this.#frame = undefined;
    const parsed = parseOutput(body);
    if (typeof parsed === 'string') this.#handlers.log(`[host] bad output frame (${parsed}): ${body}`);
    else this.#handlers.output(parsed);
  }
}
