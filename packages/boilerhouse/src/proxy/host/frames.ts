/**
 * Newline-delimited JSON frames over a stream. A frame longer than MAX_FRAME_BYTES, or a line that is not
 * JSON, is refused with a ProtocolError; its text is never quoted (an open request carries secrets).
 */
import type { Socket } from 'node:net';
import { MAX_FRAME_BYTES, ProtocolError } from './protocol.ts';

export class FrameDecoder {
  readonly #maxBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxBytes = MAX_FRAME_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** The JSON values of the whole lines `chunk` completes; throws on the first bad one. */
  push(chunk: Buffer): unknown[] {
    const values: unknown[] = [];
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      this.#add(chunk.subarray(start, end));
      const line = Buffer.concat(this.#pending).toString('utf8');
      this.#pending = [];
      this.#pendingBytes = 0;
      start = end + 1;
      if (line.trim() === '') throw new ProtocolError('an empty frame');
      try {
        values.push(JSON.parse(line));
      } catch {
        throw new ProtocolError(`a frame of ${Buffer.byteLength(line)} bytes is not JSON`);
      }
    }
    this.#add(chunk.subarray(start));
    return values;
  }

  #add(part: Buffer): void {
    this.#pendingBytes += part.length;
    if (this.#pendingBytes > this.#maxBytes) {
      throw new ProtocolError(`a frame is over ${this.#maxBytes} bytes`);
    }
    if (part.length > 0) this.#pending.push(part);
  }
}

/**
 * Calls `onValue` for each frame the socket brings, and `onError` once, for the first bad one or the first
 * `onValue` threw for; later data is ignored (the caller closes the connection).
 */
export function readFrames(
  socket: Socket,
  onValue: (value: unknown) => void,
  onError: (error: ProtocolError) => void,
): void {
  const decoder = new FrameDecoder();
  let failed = false;
  socket.on('data', (chunk: Buffer) => {
    if (failed) return;
    try {
      for (const value of decoder.push(chunk)) onValue(value);
    } catch (error) {
      // Whatever went wrong ends this connection only, never the process serving every socket.
      failed = true;
      onError(error instanceof ProtocolError ? error : new ProtocolError((error as Error).message));
    }
  });
}
