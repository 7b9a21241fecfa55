/**
 * How a message's files reach the agent: each is named in the prompt where its message is
 * (`<attachment path="files/…" type="…" size="…"/>`, the path relative to the group's folder, its working
 * directory), and its images are also handed to it as images (AGENT-PROTOCOL.md, "Input": `images`), in
 * the order they appear. Any image up to the file limit will do: the `claude` CLI scales down and
 * recompresses what is beyond the Messages API's own limits (2000 px a side, 5 MiB base64).
 */
import type { AgentImage } from '@boilerhouse/nanoclaw-agent/input';
import type { StoredMessage } from '../store/messages.ts';
import type { Attachment } from './attachment.ts';
import { FILES_DIR } from './limits.ts';
import { isImageType } from './sniff.ts';

export function attachmentPath(attachment: Attachment): string {
  return `${FILES_DIR}/${attachment.name}`;
}

/** The images of these messages the model is shown. */
export function modelImages(messages: StoredMessage[]): AgentImage[] {
  return messages.flatMap((message) =>
    message.attachments.flatMap((attachment) =>
      isImageType(attachment.type) ? [{ path: attachmentPath(attachment), mediaType: attachment.type }] : [],
    ),
  );
}
