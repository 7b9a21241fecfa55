/**
 * A put's announced length, held to: a body longer or shorter than `length` fails the put, so a truncated
 * source never becomes a stored object.
 */
import { Readable } from 'node:stream';

export function checkedBody(body: Buffer | Readable, length: number | undefined): Buffer | Readable {
  if (length === undefined) return body;
  if (Buffer.isBuffer(body)) {
    if (body.length !== length) throw new Error(lengthMessage(body.length, length));
    return body;
  }
  // A generator reads the source only as the sink consumes it, so an error cannot fire unheard.
  return Readable.from(counted(body, length), { objectMode: false });
}

async function* counted(body: Readable, length: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    seen += bytes.length;
    if (seen > length) throw new Error(lengthMessage(seen, length));
    yield bytes;
  }
  if (seen !== length) throw new Error(lengthMessage(seen, length));
}

function lengthMessage(seen: number, length: number): string {
  return `the body has ${seen} bytes, not the ${length} announced`;
}
