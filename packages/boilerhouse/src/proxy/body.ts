/**
 * Request bodies, read whole before anything is decided. Node's parser already refuses malformed framing
 * (Content-Length with Transfer-Encoding, bad chunk sizes, obfuscated encodings); what reaches here is
 * checked again: only `chunked` or a Content-Length, never more than the limit. A body the caller sent after
 * `Content-Length: 0` is not part of this request: the parser reads it as the next one, and it is refused
 * there (CVE-2024-41110's shape).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ProxyDenial } from './denial.ts';
import { decode, GoDecodeError, type GoStruct, type GoType } from './go-decode.ts';
import { JsonSyntaxError, parseJson } from './go-json.ts';

/** Create bodies are a few KiB; a megabyte leaves room for long environments. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The declared length (undefined when chunked); refuses framing this socket does not take. */
export function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const encoding = headers['transfer-encoding'];
  const length = headers['content-length'];
  if (encoding !== undefined) {
    if (encoding.toLowerCase() !== 'chunked' || length !== undefined) {
      throw new ProxyDenial(
        400,
        'body',
        `Transfer-Encoding ${JSON.stringify(encoding)} is refused: only chunked, without Content-Length`,
      );
    }
    return undefined;
  }
  const bytes = Number(length ?? 0);
  if (!/^\d+$/.test(length ?? '0') || !Number.isSafeInteger(bytes)) {
    throw new ProxyDenial(400, 'body', `Content-Length ${JSON.stringify(length)} is not a byte count`);
  }
  if (bytes > MAX_BODY_BYTES) throw tooLarge();
  return bytes;
}

/** The whole body; refuses one over the limit without reading the rest. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  declaredLength(request.headers);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A body that must be there (a create, an exec): empty is refused, and it must say it is JSON. */
export function requireJsonBody(body: Buffer, headers: IncomingHttpHeaders, what: string): Buffer {
  if (body.length === 0) throw new ProxyDenial(400, 'body', `${what} needs a JSON body; it was empty`);
  const type = headers['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new ProxyDenial(
      400,
      'body',
      `${what} takes Content-Type application/json, not ${JSON.stringify(type)}`,
    );
  }
  return body;
}

function tooLarge(): ProxyDenial {
  return new ProxyDenial(413, 'body_too_large', `request bodies over ${MAX_BODY_BYTES} bytes are refused`);
}

/** A JSON body decoded as the engine decodes it into `type`; syntax and type errors are refused. */
export function decodeBody(body: Buffer, type: GoType): GoStruct {
  try {
    return decode(parseJson(body.toString('utf8')), type) as GoStruct;
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      throw new ProxyDenial(400, 'body', `the body is not valid JSON: ${error.message}`);
    if (error instanceof GoDecodeError)
      throw new ProxyDenial(400, 'body', `the body does not decode: ${error.message}`);
    throw error;
  }
}
