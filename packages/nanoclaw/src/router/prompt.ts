/**
 * The prompt of an agent turn: every message since the assistant last answered in the chat, each with its
 * time (in the configured time zone) and sender, and its files (files/model-images.ts), as `<messages>`
 * XML the agent can tell apart from text.
 */
import { attachmentPath } from '../files/model-images.ts';
import type { StoredMessage } from '../store/messages.ts';

export function formatPrompt(messages: StoredMessage[], timezone: string): string {
  const clock = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  const lines = messages.map((message) => {
    const files = message.attachments.map(
      (file) =>
        `<attachment path="${escapeXml(attachmentPath(file))}" type="${escapeXml(file.type)}" size="${file.size}"/>`,
    );
    return `<message sender="${escapeXml(message.senderName)}" time="${escapeXml(clock.format(message.timestamp))}">${escapeXml(message.text)}${files.join('')}</message>`;
  });
  return `<messages>\n${lines.join('\n')}\n</messages>`;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
