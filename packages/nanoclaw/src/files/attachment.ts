/** A file a message carries; the bytes live in its group's folder, as `files/{name}`. */
export interface Attachment {
  /** The file's name in the group's `files/` folder, which is also what the chat shows. */
  name: string;
  /** From its bytes (sniff.ts), never from a client. */
  type: string;
  size: number;
}

/** A file as a channel hands it over: its name as sent, and its bytes, read on demand and bounded. */
export interface IncomingFile {
  name: string;
  /** The size the channel announced, when it did: a file announced too large is not fetched at all. */
  size: number | undefined;
  /** The bytes; throws when there are more than `maxBytes`. */
  read(maxBytes: number): Promise<Buffer>;
}

/** A file going out to a chat. */
export interface OutgoingFile {
  name: string;
  type: string;
  bytes: Buffer;
}
