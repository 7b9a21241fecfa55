/**
 * A web chat's live stream (`GET /api/chats/{chat}/stream`, server-sent events) held open like a messaging
 * channel's connection: the messages it pushes are collected until it is closed.
 */
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
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        const events = buffered.split('\n\n');
        buffered = events.pop() ?? '';
        for (const event of events) {
          const lines = event.split('\n');
          if (!lines.includes('event: message')) continue;
          const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
          if (data !== undefined) texts.push((JSON.parse(data) as { text: string }).text);
        }
      }
    } catch {
      // closed by us
    }
    open = false;
  })();
  return { texts, open: () => open, close: () => abort.abort() };
}
