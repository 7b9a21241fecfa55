/**
 * A stand-in for WhatsApp's media server, at its wire protocol as Baileys downloads from it: each file is
 * encrypted as WhatsApp encrypts media (a random 32-byte media key, HKDF-SHA256-expanded with
 * `WhatsApp {Image|Document|Video|Audio} Keys` to an IV, an AES-256-CBC key and a MAC key; the ciphertext
 * then the first 10 bytes of its HMAC-SHA256) and served over HTTP at the message's `url`, so Baileys'
 * own downloadMediaMessage fetches and decrypts it. `gone` files answer 410, as expired media does.
 */
import { createCipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WAMessage } from '@whiskeysockets/baileys';

export type MediaKind = 'image' | 'document' | 'video' | 'audio';

const KEY_INFO: Record<MediaKind, string> = {
  image: 'WhatsApp Image Keys',
  document: 'WhatsApp Document Keys',
  video: 'WhatsApp Video Keys',
  audio: 'WhatsApp Audio Keys',
};

export interface UploadedMedia {
  url: string;
  mediaKey: Uint8Array;
  fileLength: number;
  fileSha256: Uint8Array;
  fileEncSha256: Uint8Array;
}

export interface MediaServer {
  upload(bytes: Buffer, kind: MediaKind): UploadedMedia;
  /** Makes the file at `url` answer 410 Gone, as media WhatsApp no longer keeps. */
  expire(url: string): void;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startMediaServer(): Promise<MediaServer> {
  const files = new Map<string, Buffer>();
  const gone = new Set<string>();
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push(path);
    const file = files.get(path);
    if (gone.has(path)) return response.writeHead(410).end();
    if (file === undefined) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
    response.end(file);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let next = 1;
  return {
    upload(bytes, kind) {
      const mediaKey = randomBytes(32);
      const expanded = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(0), KEY_INFO[kind], 112));
      const iv = expanded.subarray(0, 16);
      const cipher = createCipheriv('aes-256-cbc', expanded.subarray(16, 48), iv);
      const encrypted = Buffer.concat([cipher.update(bytes), cipher.final()]);
      const mac = createHmac('sha256', expanded.subarray(48, 80)).update(iv).update(encrypted).digest();
      const body = Buffer.concat([encrypted, mac.subarray(0, 10)]);
      const path = `/v/t62.7118-24/media-${next++}.enc`;
      files.set(path, body);
      return {
        url: `${root}${path}`,
        mediaKey,
        fileLength: bytes.length,
        fileSha256: createHash('sha256').update(bytes).digest(),
        fileEncSha256: createHash('sha256').update(body).digest(),
      };
    },
    expire: (url) => gone.add(new URL(url).pathname),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A media message as Baileys hands it over in messages.upsert. */
export function waMediaMessage(fields: {
  jid: string;
  id: string;
  kind: MediaKind;
  media: UploadedMedia;
  mimetype: string;
  caption?: string;
  fileName?: string;
  participant?: string;
  pushName?: string;
}): WAMessage {
  const media = {
    url: fields.media.url,
    mediaKey: fields.media.mediaKey,
    fileLength: fields.media.fileLength,
    fileSha256: fields.media.fileSha256,
    fileEncSha256: fields.media.fileEncSha256,
    mimetype: fields.mimetype,
    ...(fields.caption === undefined ? {} : { caption: fields.caption }),
    ...(fields.fileName === undefined ? {} : { fileName: fields.fileName }),
  };
  return {
    key: { remoteJid: fields.jid, id: fields.id, fromMe: false, participant: fields.participant },
    message: { [`${fields.kind}Message`]: media },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: fields.pushName,
  } as WAMessage;
}
