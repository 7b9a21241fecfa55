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
  text: string;
  /** ms */
  timestamp: number;
}

export interface Channel {
  readonly name: ChannelName;
  /** Replies are prefixed with the assistant's name where the chat cannot tell them apart otherwise. */
  readonly prefixesReplies: boolean;
  ownsJid(jid: string): boolean;
  connect(): Promise<void>;
  onMessage(handler: (message: IncomingMessage) => void): void;
  sendMessage(jid: string, text: string): Promise<void>;
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
