/**
 * The engine's multiplexed stream (exec and logs without a TTY): frames of an 8-byte header — stream type,
 * three zero bytes, big-endian payload length — then the payload. Chunks may cut frames anywhere.
 */
const HEADER_BYTES = 8;

export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);

  /** The payloads of the frames completed by `chunk`, in order (stdout and stderr interleaved). */
  push(chunk: Buffer): Buffer[] {
    let buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const payloads: Buffer[] = [];
    while (buffer.length >= HEADER_BYTES) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < HEADER_BYTES + size) break;
      payloads.push(buffer.subarray(HEADER_BYTES, HEADER_BYTES + size));
      buffer = buffer.subarray(HEADER_BYTES + size);
    }
    // Copy, so a retained partial frame does not pin the whole chunk it came in.
    this.#pending = Buffer.from(buffer);
    return payloads;
  }
}

/** The payloads of a whole multiplexed stream, as they arrive. */
export async function* payloads(stream: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  const splitter = new FrameSplitter();
  for await (const chunk of stream) yield* splitter.push(chunk as Buffer);
}
