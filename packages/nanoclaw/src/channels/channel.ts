import type { IncomingFile, OutgoingFile } from '../files/attachment.ts';

/**
 * What every messaging channel offers the host. Chat ids carry their channel: `web:main`, `tg:12345`,
 * WhatsApp's own `...@g.us` / `...@s.whatsapp.net`.
 */
export type ChannelName = 'web' | 'whatsapp' | 'telegram';

export type ChannelState = 'connecting' | 'connected' | 'disconnected' | 'pairing' | 'logged_out';

export interface ChannelStatus {
  state: ChannelState;
  /** For a person: why it is not connected, or what to do. */
  detail?: string;
  /** While pairing WhatsApp: the QR code's text (the web page draws it). */
  qr?: string;
  /** While pairing WhatsApp by phone number: the code to type on the phone. */
  pairingCode?: string;
}

/** A message as a channel hands it over. */
export interface IncomingMessage {
  chatJid: string;
  /** The chat's display name, when the channel knows it. */
  chatName?: string;
  /** The channel's message id, unique within the chat. */
  id: string;
  sender: string;
  senderName: string;
  /** May be empty when the message is only files. */
  text: string;
  /** ms */
  timestamp: number;
  /** Images and other files sent with it (a caption is its text). */
  files?: IncomingFile[];
}

export interface Channel {
  readonly name: ChannelName;
  /** Replies are prefixed with the assistant's name where the chat cannot tell them apart otherwise. */
  readonly prefixesReplies: boolean;
  ownsJid(jid: string): boolean;
  connect(): Promise<void>;
  /** The handler's promise settles once the message (and its files) is stored; channels wait for it. */
  onMessage(handler: (message: IncomingMessage) => Promise<void>): void;
  sendMessage(jid: string, text: string): Promise<void>;
  /** Sends a file (an image as one, where the channel tells them apart), with an optional caption. */
  sendFile(jid: string, file: OutgoingFile, caption: string | undefined): Promise<void>;
  setTyping(jid: string, typing: boolean): Promise<void>;
  disconnect(): Promise<void>;
  status(): ChannelStatus;
  /** Called whenever status() changes. */
  onStatus(handler: (status: ChannelStatus) => void): void;
}

/** Splits text into pieces of at most `limit` characters, preferring line breaks. */
export function splitText(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const cut = rest.lastIndexOf('\n', limit);
    const at = cut > limit / 2 ? cut : limit;
    pieces.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n/, '');
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}
