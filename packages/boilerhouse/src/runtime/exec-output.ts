/**
 * Reads the engine's multiplexed exec stream (no TTY): frames of an 8-byte header — stream type, three zero
 * bytes, big-endian payload length — then the payload. stdout and stderr stay interleaved in arrival order,
 * and only the tail is kept, so a chatty command cannot grow the daemon's memory.
 */
const headerBytes = 8;

export class ExecOutput {
  readonly #limit: number;
  #pending: Buffer = Buffer.alloc(0);
  #tail: Buffer = Buffer.alloc(0);
  #seen = 0;

  constructor(limitBytes = 4096) {
    this.#limit = limitBytes;
  }

  push(chunk: Buffer): void {
    let buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (buffer.length >= headerBytes) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < headerBytes + size) break;
      this.#keep(buffer.subarray(headerBytes, headerBytes + size));
      buffer = buffer.subarray(headerBytes + size);
    }
    // Copy, so a retained partial frame does not pin the whole chunk it came in.
    this.#pending = Buffer.from(buffer);
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
