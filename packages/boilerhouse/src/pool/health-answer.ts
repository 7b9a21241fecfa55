/**
 * Reading the health agent's answers (see health-agent.ts) from a FIFO the workload's own user can write
 * to as well: a stream of "ID EXIT_CODE LENGTH [DROPPED]\n" headers, each followed by LENGTH bytes of
 * output (DROPPED: how many earlier bytes the gate cut, from gates that say). Whatever comes, the reader
 * holds one header of at most HEADER_LIMIT bytes and at most KEEP_BYTES of output, copies each byte once,
 * and gives up after READ_LIMIT bytes, so a flood costs a bounded amount of memory and work.
 */
import type { ExecResult } from '../runtime/runtime.ts';

/** Output kept of one answer; the rest is counted and dropped. The gate itself sends at most 4 KiB. */
export const KEEP_BYTES = 64 * 1024;
/** Bytes read for one request, late answers to earlier requests included, before it fails. */
export const READ_LIMIT = 1024 * 1024;
/** The longest header line: four numbers and their spaces, with room to spare. */
const HEADER_LIMIT = 80;
const HEADER = /^(\d{1,15}) (-?\d{1,5}) (\d{1,15})(?: (\d{1,15}))?$/;

/** The answer read was not one the gate would write, or was far larger: the health check fails. */
export class HealthAnswerError extends Error {}

interface Body {
  id: number;
  exitCode: number;
  /** Bytes of this answer's output still to come. */
  left: number;
  /** Earlier output the gate cut, by its own count. */
  droppedByGate: number;
  /** Only for the awaited answer; late answers to other requests are skipped without keeping anything. */
  kept: Buffer | undefined;
  keptLength: number;
  droppedHere: number;
}

export class AnswerReader {
  readonly #id: number;
  readonly #header = Buffer.alloc(HEADER_LIMIT);
  #headerLength = 0;
  #body: Body | undefined;
  #read = 0;

  constructor(id: number) {
    this.#id = id;
  }

  /** Bytes this reader holds now, at most HEADER_LIMIT + KEEP_BYTES. */
  get heldBytes(): number {
    return this.#header.length + (this.#body?.kept?.length ?? 0);
  }

  /** Takes the next chunk; returns the awaited answer once it is complete. Throws HealthAnswerError. */
  push(chunk: Buffer): ExecResult | undefined {
    this.#read += chunk.length;
    let at = 0;
    // An answer with no output is complete as soon as its header is.
    while (at < chunk.length || this.#body?.left === 0) {
      const body = this.#body;
      if (body === undefined) {
        at = this.#takeHeader(chunk, at);
        continue;
      }
      const take = Math.min(body.left, chunk.length - at);
      if (body.kept !== undefined) {
        const room = body.kept.length - body.keptLength;
        const copied = chunk.copy(body.kept, body.keptLength, at, at + Math.min(take, room));
        body.keptLength += copied;
        body.droppedHere += take - copied;
      }
      at += take;
      body.left -= take;
      if (body.left > 0) break;
      this.#body = undefined;
      if (body.kept !== undefined) return result(body);
    }
    if (this.#read > READ_LIMIT) {
      throw new HealthAnswerError(`the health agent's answer ran over ${READ_LIMIT} bytes; stopped reading`);
    }
    return undefined;
  }

  /** Copies header bytes from `chunk` at `at`; returns where the header ended (or the chunk did). */
  #takeHeader(chunk: Buffer, at: number): number {
    const newline = chunk.indexOf(10, at);
    const end = newline === -1 ? chunk.length : newline;
    if (this.#headerLength + (end - at) > HEADER_LIMIT) {
      throw new HealthAnswerError(
        'the health agent sent something that is not an answer (a header too long)',
      );
    }
    this.#headerLength += chunk.copy(this.#header, this.#headerLength, at, end);
    if (newline === -1) return chunk.length;
    const line = this.#header.toString('ascii', 0, this.#headerLength);
    this.#headerLength = 0;
    const match = HEADER.exec(line);
    if (match === null) {
      throw new HealthAnswerError(
        `the health agent sent something that is not an answer: ${JSON.stringify(line)}`,
      );
    }
    const [id, exitCode, length, dropped] = match.slice(1).map((field) => Number(field ?? 0)) as number[];
    const awaited = id === this.#id;
    this.#body = {
      id: id as number,
      exitCode: exitCode as number,
      left: length as number,
      droppedByGate: dropped as number,
      kept: awaited ? Buffer.alloc(Math.min(length as number, KEEP_BYTES)) : undefined,
      keptLength: 0,
      droppedHere: 0,
    };
    return newline + 1;
  }
}

function result(body: Body): ExecResult {
  let output = (body.kept as Buffer).toString('utf8', 0, body.keptLength);
  if (body.droppedByGate > 0) output = `[${body.droppedByGate} earlier bytes of output dropped]\n${output}`;
  if (body.droppedHere > 0) output = `${output}\n[${body.droppedHere} more bytes of output dropped]`;
  return { exitCode: body.exitCode, output };
}
