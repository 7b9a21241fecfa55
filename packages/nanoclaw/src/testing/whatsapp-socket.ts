/**
 * A stand-in for Baileys' socket, for the adapter's boundary tests: the test emits the events Baileys
 * emits (`connection.update` with `qr` / `open` / `close` and a Boom-shaped error, `messages.upsert`,
 * `creds.update`), and reads what the adapter called (`sendMessage` with text or media,
 * `sendPresenceUpdate`, `requestPairingCode`, `updateMediaMessage`, `end`). Media in messages come from
 * the media server stand-in (whatsapp-media.ts).
 */
import { EventEmitter } from 'node:events';
import type { UserFacingSocketConfig, WAMessage } from '@whiskeysockets/baileys';
import type { SocketFactory, WhatsAppSocket } from '../channels/whatsapp.ts';
import type { MediaContent } from '../channels/whatsapp-files.ts';

export class SocketStandIn implements WhatsAppSocket {
  readonly config: UserFacingSocketConfig;
  readonly ev = new EventEmitter();
  /** `text` is a media message's caption ('' without one); `media` what it carried. */
  readonly sent: Array<{ jid: string; text: string; id: string; media?: MediaContent }> = [];
  /** Messages whose media the adapter asked to have uploaded again. */
  readonly reuploads: WAMessage[] = [];
  /** What updateMediaMessage answers for a message (its media uploaded again); the message itself by default. */
  reupload: (message: WAMessage) => WAMessage = (message) => message;
  readonly presence: Array<{ type: string; jid: string }> = [];
  readonly pairingRequests: string[] = [];
  user: { id: string; name?: string } | undefined = { id: '4915100000000:1@s.whatsapp.net', name: 'Me' };
  ended = false;
  #next = 1;

  constructor(config: UserFacingSocketConfig) {
    this.config = config;
  }

  emit(event: string, payload: unknown): void {
    this.ev.emit(event, payload);
  }

  async sendMessage(jid: string, content: { text: string } | MediaContent): Promise<WAMessage> {
    const id = `3EB0SENT${this.#next++}`;
    if ('text' in content) this.sent.push({ jid, text: content.text, id });
    else this.sent.push({ jid, text: content.caption ?? '', id, media: content });
    return {
      key: { remoteJid: jid, fromMe: true, id },
      message: { conversation: 'text' in content ? content.text : (content.caption ?? '') },
    } as WAMessage;
  }

  async updateMediaMessage(message: WAMessage): Promise<WAMessage> {
    this.reuploads.push(message);
    return this.reupload(message);
  }

  async sendPresenceUpdate(type: 'composing' | 'paused', jid: string): Promise<void> {
    this.presence.push({ type, jid });
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.pairingRequests.push(phoneNumber);
    return 'ABCD-1234';
  }

  end(): void {
    this.ended = true;
  }
}

/** A factory that records every socket it makes (a reconnect makes a new one). */
export function standInFactory(): { make: SocketFactory; sockets: SocketStandIn[] } {
  const sockets: SocketStandIn[] = [];
  return {
    sockets,
    make: (config) => {
      const socket = new SocketStandIn(config);
      sockets.push(socket);
      return socket;
    },
  };
}

/** A message as Baileys hands it over in messages.upsert. */
export function waMessage(fields: {
  jid: string;
  id: string;
  text: string;
  participant?: string;
  fromMe?: boolean;
  pushName?: string;
  at?: number;
}): WAMessage {
  return {
    key: {
      remoteJid: fields.jid,
      id: fields.id,
      fromMe: fields.fromMe ?? false,
      participant: fields.participant,
    },
    message: { extendedTextMessage: { text: fields.text } },
    messageTimestamp: Math.floor((fields.at ?? Date.now()) / 1000),
    pushName: fields.pushName,
  } as WAMessage;
}

/** Baileys closes with a Boom error whose output.statusCode says why. */
export function closedWith(statusCode: number) {
  return {
    connection: 'close' as const,
    lastDisconnect: {
      error: Object.assign(new Error('Connection Failure'), { output: { statusCode } }),
      date: new Date(),
    },
  };
}
