/**
 * The output of an exec, from the engine's multiplexed stream (see frames.ts). stdout and stderr stay
 * interleaved in arrival order, and only the tail is kept, so a chatty command cannot grow the daemon's
 * memory.
 */
import { FrameSplitter } from './frames.ts';

export class ExecOutput {
  readonly #limit: number;
  readonly #frames = new FrameSplitter();
  #tail: Buffer = Buffer.alloc(0);
  #seen = 0;

  constructor(limitBytes = 4096) {
    this.#limit = limitBytes;
  }

  push(chunk: Buffer): void {
    for (const payload of this.#frames.push(chunk)) this.#keep(payload);
  }

  /** The last `limitBytes` of output, as text. */
  text(): string {
    // The cut may land inside a UTF-8 sequence; skip its continuation bytes rather than print U+FFFD.
    let start = 0;
    while (this.#seen > this.#limit && start < 3 && ((this.#tail[start] ?? 0) & 0xc0) === 0x80) start++;
    return this.#tail.subarray(start).toString('utf8');
  }

  #keep(payload: Buffer): void {
    this.#seen += payload.length;
    const recent = payload.subarray(Math.max(0, payload.length - this.#limit));
    const joined = Buffer.concat([this.#tail, recent]);
    this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - this.#limit)));
  }
}
