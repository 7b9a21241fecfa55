/**
 * Telegram's media, both ways. In: a message's photo (the largest size within the file limit), document,
 * video, audio or voice note becomes a file fetched on demand, as the Bot API serves them: `getFile` for
 * its `file_path`, then `GET {api root}/file/bot{token}/{file_path}`, read no further than the limit. Out:
 * a PNG or JPEG goes as a photo (Telegram shows it, recompressed), anything else as a document; a caption
 * longer than Telegram's 1024 characters goes on in text messages after it.
 */
import type { Api } from 'grammy';
import { InputFile } from 'grammy';
import type { Message } from 'grammy/types';
import type { IncomingFile, OutgoingFile } from '../files/attachment.ts';
import { megabytes } from '../files/limits.ts';
import { splitText } from './channel.ts';

const TELEGRAM_API = 'https://api.telegram.org';
/** The Bot API's limit per caption. */
export const MAX_CAPTION = 1024;
const MAX_MESSAGE = 4096;

export interface TelegramFileSource {
  api: Api;
  token: string;
  apiRoot: string | undefined;
}

interface Media {
  file_id: string;
  file_size?: number;
  file_name?: string;
}

/** The files of a message, none for text. */
export function messageFiles(source: TelegramFileSource, message: Message, maxBytes: number): IncomingFile[] {
  const id = message.message_id;
  const found: Array<{ media: Media; name: string }> = [];
  if (message.photo !== undefined && message.photo.length > 0) {
    // Sizes come smallest first; the largest that fits, or the smallest when none says it does.
    const fitting = message.photo.filter((size) => (size.file_size ?? 0) <= maxBytes);
    const photo = fitting.at(-1) ?? (message.photo[0] as Media);
    found.push({ media: photo, name: `photo-${id}.jpg` });
  }
  if (message.document !== undefined) found.push({ media: message.document, name: `document-${id}` });
  if (message.video !== undefined) found.push({ media: message.video, name: `video-${id}.mp4` });
  if (message.audio !== undefined) found.push({ media: message.audio, name: `audio-${id}` });
  if (message.voice !== undefined) found.push({ media: message.voice, name: `voice-${id}.ogg` });
  return found.map(({ media, name }) => ({
    name: media.file_name ?? name,
    size: media.file_size,
    read: (limit) => download(source, media.file_id, limit),
  }));
}

async function download(source: TelegramFileSource, fileId: string, maxBytes: number): Promise<Buffer> {
  const file = await source.api.getFile(fileId);
  if (file.file_path === undefined) throw new Error('Telegram gave no path to download it from');
  if ((file.file_size ?? 0) > maxBytes) throw tooLarge(maxBytes);
  // The token is in this URL: it is never logged, and errors below do not carry it.
  const response = await fetch(`${source.apiRoot ?? TELEGRAM_API}/file/bot${source.token}/${file.file_path}`);
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`Telegram's file download answered ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): Error {
  return new Error(`larger than ${megabytes(maxBytes)}, the limit for a file`);
}

export async function sendTelegramFile(
  api: Api,
  chatId: number,
  file: OutgoingFile,
  caption: string | undefined,
): Promise<void> {
  const [first, ...rest] = caption === undefined ? [] : splitText(caption, MAX_CAPTION);
  const options = first === undefined ? {} : { caption: first };
  const input = new InputFile(file.bytes, file.name);
  if (file.type === 'image/png' || file.type === 'image/jpeg') await api.sendPhoto(chatId, input, options);
  else await api.sendDocument(chatId, input, options);
  for (const piece of splitText(rest.join('\n'), MAX_MESSAGE)) await api.sendMessage(chatId, piece);
}
