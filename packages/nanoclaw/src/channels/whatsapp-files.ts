/**
 * WhatsApp's media, both ways, through Baileys. In: a message's image, document, video or audio becomes a
 * file fetched on demand with Baileys' own download (WhatsApp's media server, decrypted with the message's
 * media key), read no further than the limit. Media the server no longer has (404, 410) is asked of the
 * sender's phone again (`updateMediaMessage`) and fetched once more: Baileys 7.0.0-rc14 means to do that
 * itself but looks for the status where its own errors do not put it. Out: a PNG or JPEG goes as an
 * image, anything else as a document with its name.
 */
import type { WAMessage, WAMessageContent } from '@whiskeysockets/baileys';
import type { IncomingFile, OutgoingFile } from '../files/attachment.ts';
import { megabytes } from '../files/limits.ts';

export interface MediaSource {
  download(message: WAMessage): Promise<AsyncIterable<Uint8Array> & { destroy(): void }>;
  /** The message with its media uploaded again by the sender's phone. */
  reupload(message: WAMessage): Promise<WAMessage>;
}

/** What goes to a socket's sendMessage for a file. */
export type MediaContent =
  | { image: Buffer; mimetype: string; caption?: string }
  | { document: Buffer; mimetype: string; fileName: string; caption?: string };

interface Media {
  mimetype?: string | null;
  fileLength?: number | { toNumber(): number } | null;
  fileName?: string | null;
}

/** The media of a message, with the name it is kept under when it has none of its own. */
function mediaOf(
  content: WAMessageContent | null | undefined,
  id: string,
): { media: Media; name: string } | undefined {
  if (!content) return undefined;
  if (content.imageMessage) return { media: content.imageMessage, name: `image-${id}.jpg` };
  const document = content.documentMessage ?? content.documentWithCaptionMessage?.message?.documentMessage;
  if (document) return { media: document, name: `document-${id}` };
  if (content.videoMessage) return { media: content.videoMessage, name: `video-${id}.mp4` };
  if (content.audioMessage) return { media: content.audioMessage, name: `audio-${id}.ogg` };
  return undefined;
}

export function messageFiles(message: WAMessage, source: MediaSource): IncomingFile[] {
  const found = mediaOf(message.message, message.key.id ?? 'media');
  if (found === undefined) return [];
  const length = found.media.fileLength;
  return [
    {
      name: found.media.fileName || found.name,
      size:
        length === null || length === undefined
          ? undefined
          : Number(typeof length === 'number' ? length : length.toNumber()),
      read: async (maxBytes) => {
        try {
          return await readBounded(await source.download(message), maxBytes);
        } catch (error) {
          const status = (error as { output?: { statusCode?: number } }).output?.statusCode;
          if (status !== 404 && status !== 410) throw error;
          return readBounded(await source.download(await source.reupload(message)), maxBytes);
        }
      },
    },
  ];
}

async function readBounded(
  stream: AsyncIterable<Uint8Array> & { destroy(): void },
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new Error(`larger than ${megabytes(maxBytes)}, the limit for a file`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function mediaContent(file: OutgoingFile, caption: string | undefined): MediaContent {
  const withCaption = caption === undefined ? {} : { caption };
  if (file.type === 'image/png' || file.type === 'image/jpeg')
    return { image: file.bytes, mimetype: file.type, ...withCaption };
  return { document: file.bytes, mimetype: file.type, fileName: file.name, ...withCaption };
}
