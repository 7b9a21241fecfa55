/**
 * Mail as the Gmail API carries it: an outgoing message is RFC 5322 text, base64url-encoded, in `raw`; an
 * incoming one is a `payload` tree of MIME parts whose bodies are base64url. Header values the model
 * writes are refused when they hold a line break, so no tool call can add a header (a Bcc, say).
 */

export interface OutgoingMail {
  to: string;
  cc?: string | undefined;
  subject: string;
  body: string;
  /** For a reply: the Message-ID it answers, and the thread's References. */
  inReplyTo?: string | undefined;
  references?: string | undefined;
}

/** A message part as `users.messages.get` returns it. */
export interface MessagePart {
  mimeType?: string;
  filename?: string;
  headers?: Array<{ name: string; value: string }>;
  body?: { data?: string; size?: number; attachmentId?: string };
  parts?: MessagePart[];
}

export interface GmailMessage {
  id: string;
  threadId: string;
  snippet?: string;
  labelIds?: string[];
  payload?: MessagePart;
}

export class MailError extends Error {
  override name = 'MailError';
}

function headerValue(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new MailError(`${name} must be one line`);
  // RFC 2047: a non-ASCII value goes as UTF-8 in base64.
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function addresses(name: string, value: string): string {
  const list = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (list.length === 0 || list.some((entry) => !/^[^@\s]+@[^@\s]+$|<[^@\s<>]+@[^@\s<>]+>$/.test(entry)))
    throw new MailError(`${name}: give one or more email addresses, separated by commas`);
  return headerValue(name, list.join(', '));
}

/** The `raw` field of `users.messages.send`. */
export function composeRaw(mail: OutgoingMail): string {
  const lines = [`To: ${addresses('to', mail.to)}`];
  if (mail.cc !== undefined && mail.cc.trim() !== '') lines.push(`Cc: ${addresses('cc', mail.cc)}`);
  lines.push(`Subject: ${headerValue('subject', mail.subject)}`);
  if (mail.inReplyTo !== undefined) lines.push(`In-Reply-To: ${headerValue('In-Reply-To', mail.inReplyTo)}`);
  if (mail.references !== undefined) lines.push(`References: ${headerValue('References', mail.references)}`);
  lines.push(
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset="UTF-8"',
    'Content-Transfer-Encoding: base64',
  );
  const body = Buffer.from(mail.body, 'utf8')
    .toString('base64')
    .replace(/.{1,76}/g, '$&\r\n');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8').toString('base64url');
}

/** A header of a message (case-insensitive), or '' when it has none. */
export function header(message: GmailMessage, name: string): string {
  const wanted = name.toLowerCase();
  return message.payload?.headers?.find((entry) => entry.name.toLowerCase() === wanted)?.value ?? '';
}

function decode(data: string | undefined): string {
  return data === undefined ? '' : Buffer.from(data, 'base64url').toString('utf8');
}

function partsOf(part: MessagePart): MessagePart[] {
  return [part, ...(part.parts ?? []).flatMap(partsOf)];
}

/** The message's text: its text/plain part, else its HTML without tags; and its attachments' names. */
export function messageText(message: GmailMessage): { text: string; attachments: string[] } {
  const parts = message.payload === undefined ? [] : partsOf(message.payload);
  const attachments = parts.filter((part) => part.filename).map((part) => part.filename as string);
  const plain = parts.find((part) => part.mimeType === 'text/plain' && !part.filename && part.body?.data);
  if (plain !== undefined) return { text: decode(plain.body?.data), attachments };
  const html = parts.find((part) => part.mimeType === 'text/html' && !part.filename && part.body?.data);
  const text = html === undefined ? (message.snippet ?? '') : htmlToText(decode(html.body?.data));
  return { text, attachments };
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h[1-6])>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
