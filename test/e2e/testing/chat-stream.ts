/**
 * A web chat's live stream (`GET /api/chats/{chat}/stream`, server-sent events) held open like a messaging
 * channel's connection: the messages it pushes are collected until it is closed.
 */
import { readSse } from '@boilerhouse/kit/sse';

export interface ChatStream {
  /** Message texts pushed so far, in order. */
  texts: string[];
  /** Whether the connection is still open (the server has not ended it). */
  open: () => boolean;
  close(): void;
}

export async function openChatStream(url: string, chat: string, token?: string): Promise<ChatStream> {
  const abort = new AbortController();
  const response = await fetch(`${url}/api/chats/${chat}/stream`, {
    signal: abort.signal,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  if (!response.ok || response.body === null) throw new Error(`stream of ${chat}: ${response.status}`);
  const texts: string[] = [];
  let open = true;
  void (async () => {
    try {
      for await (const message of readSse(response.body as ReadableStream<Uint8Array>)) {
        if (message.event === 'message') texts.push((JSON.parse(message.data) as { text: string }).text);
      }
    } catch {
      // closed by us
    }
    open = false;
  })();
  return { texts, open: () => open, close: () => abort.abort() };
}
