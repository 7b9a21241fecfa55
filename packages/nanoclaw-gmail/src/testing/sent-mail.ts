/**
 * What the stand-in makes of a `users.messages.send`: the `raw` RFC 2822 text read back into its headers
 * and plain text, and the thread Gmail files it in. Gmail keeps a message in the thread asked for only
 * when its In-Reply-To or References name a message of that thread and its Subject matches the thread's
 * (a `Re:` aside); otherwise it starts a new thread. A threadId Gmail does not know is a 404.
 */

export interface SentMail {
  /** The threadId the request asked for, if any. */
  threadId: string | undefined;
  /** The thread Gmail filed it in. */
  filedIn: string;
  /** The decoded RFC 2822 text, as sent. */
  mime: string;
  /** Its headers, names lower-cased, folded lines joined. */
  headers: Record<string, string>;
  /** Its body, the transfer encoding undone. */
  text: string;
}

/** A message already in the mailbox, as far as threading needs it. */
export interface ThreadMember {
  threadId: string;
  subject: string;
  messageId: string;
}

export function parseRaw(raw: string): { mime: string; headers: Record<string, string>; text: string } {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(raw)) throw new Error('raw is not base64url');
  const mime = Buffer.from(raw, 'base64url').toString('utf8');
  const split = mime.indexOf('\r\n\r\n');
  if (split < 0) throw new Error('raw has no blank line between its headers and its body');
  const headers: Record<string, string> = {};
  for (const line of mime
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`raw has a header line without a name: ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = mime.slice(split + 4);
  const text =
    (headers['content-transfer-encoding'] ?? '').toLowerCase() === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : body;
  return { mime, headers, text };
}

const bareSubject = (subject: string) =>
  subject
    .replace(/^((re|fwd?):\s*)+/i, '')
    .trim()
    .toLowerCase();

/** The thread a sent message lands in, or undefined when the threadId asked for is unknown. */
export function threadFor(
  asked: string | undefined,
  headers: Record<string, string>,
  members: ThreadMember[],
  newId: string,
): string | undefined {
  if (asked === undefined) return newId;
  const thread = members.filter((member) => member.threadId === asked);
  if (thread.length === 0) return undefined;
  const named = `${headers['in-reply-to'] ?? ''} ${headers.references ?? ''}`.split(/\s+/);
  const answers = thread.some((member) => named.includes(member.messageId));
  const sameSubject = thread.some(
    (member) => bareSubject(member.subject) === bareSubject(headers.subject ?? ''),
  );
  return answers && sameSubject ? asked : newId;
}
