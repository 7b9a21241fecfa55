/**
 * A chat's file as an HTTP answer. Its type comes from its bytes as they are now (the agent may have
 * rewritten it since it was sent): one of the image types is shown inline; anything else is a download
 * (`Content-Disposition: attachment`, `application/octet-stream`), so no page, script or SVG a file holds
 * ever runs on the chat's origin. `nosniff` keeps browsers from guessing otherwise, and a sandboxing CSP
 * covers a file opened directly all the same.
 */
import type { ServerResponse } from 'node:http';
import { isImageType, sniffType } from './sniff.ts';

export function sendFile(response: ServerResponse, name: string, bytes: Buffer, head: boolean): void {
  const type = sniffType(bytes);
  const inline = isImageType(type);
  response.writeHead(200, {
    'content-type': inline ? type : 'application/octet-stream',
    'content-length': bytes.length,
    'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', name),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, no-cache',
  });
  response.end(head ? undefined : bytes);
}

/** RFC 6266: an ASCII fallback name, and the real one in UTF-8 (RFC 5987). */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
