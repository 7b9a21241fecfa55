/**
 * The few parts of POSIX ustar a backup needs: regular files with short plain names, written and read as
 * streams (a database may be large). A tar, so that a backup fetched without the CLI (`curl ... | tar -x`)
 * unpacks with any tool.
 */

const BLOCK = 512;
const NAME_BYTES = 100;
/** 11 octal digits: files up to 8 GiB. */
const MAX_SIZE = 8 ** 11 - 1;
const READ_BYTES = 64 * 1024;

/** The header of one regular file, owned by root, mode 0600. */
export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || Buffer.byteLength(name) >= NAME_BYTES) {
    throw new Error(`cannot name a file ${JSON.stringify(name)} in a backup archive`);
  }
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE) throw new Error(`${name} is too large`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 'utf8');
  octal(header, 100, 8, 0o600);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  octal(header, 124, 12, size);
  octal(header, 136, 12, Math.floor(mtime.getTime() / 1000));
  header.write('0', 156, 'ascii');
  header.write('ustar\x0000', 257, 'ascii');
  header.fill(' ', 148, 156);
  header.write(`${checksum(header).toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/** The zeros after a file's bytes, up to the next block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export interface TarEntrySink {
  write(chunk: Buffer): Promise<void>;
  /** All of the entry's bytes were written. */
  end(): Promise<void>;
}

/**
 * Reads an archive, handing each file's bytes to the sink `open` gives for it (entries in order, one at a
 * time). Throws on anything but regular files, a header whose checksum is wrong, or an archive cut short.
 */
export async function readTar(
  source: AsyncIterable<Uint8Array>,
  open: (name: string, size: number) => Promise<TarEntrySink>,
): Promise<void> {
  const input = new Input(source);
  for (;;) {
    const header = await input.exactly(BLOCK);
    if (header.every((byte) => byte === 0)) return;
    const stored = parseOctal(header.subarray(148, 156));
    header.fill(' ', 148, 156);
    if (stored !== checksum(header)) throw new Error('the backup archive has a damaged header');
    const name = header.subarray(0, NAME_BYTES).toString('utf8').replace(/\0.*$/s, '');
    const type = String.fromCharCode(header[156] ?? 0);
    if (type !== '0' && type !== '\0')
      throw new Error(`the backup archive holds ${name}, not a regular file`);
    const size = parseOctal(header.subarray(124, 136));
    const sink = await open(name, size);
    for (let left = size; left > 0; ) {
      const chunk = await input.upTo(Math.min(left, READ_BYTES));
      await sink.write(chunk);
      left -= chunk.length;
    }
    await sink.end();
    await input.exactly(tarPadding(size).length);
  }
}

function octal(header: Buffer, at: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, 'ascii');
}

function parseOctal(field: Buffer): number {
  const text = field
    .toString('ascii')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]+$/.test(text)) throw new Error('the backup archive has a damaged header');
  return Number.parseInt(text, 8);
}

/** The sum of the header's bytes, its checksum field counted as spaces. */
function checksum(header: Buffer): number {
  let sum = 0;
  for (const byte of header) sum += byte;
  return sum;
}

/** Bytes from a stream, taken as many at a time as asked. */
class Input {
  readonly #chunks: AsyncIterator<Uint8Array>;
  #held = Buffer.alloc(0);

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#chunks = source[Symbol.asyncIterator]();
  }

  /** Exactly `count` bytes. */
  async exactly(count: number): Promise<Buffer> {
    while (this.#held.length < count) await this.#more();
    const taken = this.#held.subarray(0, count);
    this.#held = this.#held.subarray(count);
    return Buffer.from(taken);
  }

  /** Between 1 and `count` bytes. */
  async upTo(count: number): Promise<Buffer> {
    if (this.#held.length === 0) await this.#more();
    return this.exactly(Math.min(count, this.#held.length));
  }

  async #more(): Promise<void> {
    const next = await this.#chunks.next();
    if (next.done) throw new Error('the backup archive ends early: the transfer was cut');
    this.#held = this.#held.length === 0 ? Buffer.from(next.value) : Buffer.concat([this.#held, next.value]);
  }
}
