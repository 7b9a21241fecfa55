/**
 * A local stand-in for Telegram's Bot API, speaking its HTTP protocol (POST /bot<token>/<method>, JSON in,
 * `{"ok": true, "result"}` out, getUpdates long polling with offsets), so grammY runs unchanged against it
 * through `apiRoot`. Tests push updates and read what the bot called.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BotApiCall {
  method: string;
  body: Record<string, unknown>;
}

export interface BotApi {
  url: string;
  calls: BotApiCall[];
  /** Queues a message update, as Telegram would deliver it. */
  pushMessage(message: {
    chatId: number;
    chatTitle?: string;
    fromId: number;
    firstName: string;
    text: string;
  }): void;
  close(): Promise<void>;
}

export async function startBotApi(options: { token: string; username: string }): Promise<BotApi> {
  const calls: BotApiCall[] = [];
  const updates: Array<{ update_id: number; message: unknown }> = [];
  let nextUpdateId = 1;
  let nextMessageId = 1000;
  const waiters = new Set<() => void>();

  const answer = async (method: string, body: Record<string, unknown>): Promise<unknown> => {
    switch (method) {
      case 'getMe':
        return {
          id: 42,
          is_bot: true,
          first_name: 'Andy',
          username: options.username,
          can_join_groups: true,
        };
      case 'deleteWebhook':
        return true;
      case 'getUpdates': {
        const offset = Number(body.offset ?? 0);
        const fresh = () => updates.filter((update) => update.update_id >= offset);
        // Telegram forgets updates below the offset once they are confirmed.
        updates.splice(0, updates.length, ...fresh());
        if (fresh().length === 0 && Number(body.timeout ?? 0) > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Math.min(Number(body.timeout) * 1000, 2000));
            function done() {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            }
            waiters.add(done);
          });
        }
        return fresh().slice(0, Number(body.limit ?? 100));
      }
      case 'sendMessage':
        return {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: body.chat_id, type: 'group', title: 'chat' },
          text: body.text,
        };
      case 'sendChatAction':
        return true;
      default:
        throw new Error(`the stand-in has no method ${method}`);
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(request.url ?? '');
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (match === null) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (match[1] !== options.token)
        return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      const method = match[2] as string;
      if (method !== 'getUpdates') calls.push({ method, body });
      answer(method, body).then(
        (result) => reply(200, { ok: true, result }),
        (error: Error) => reply(400, { ok: false, error_code: 400, description: error.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    pushMessage(message) {
      const chat =
        message.chatTitle === undefined
          ? { id: message.chatId, type: 'private', first_name: message.firstName }
          : { id: message.chatId, type: 'supergroup', title: message.chatTitle };
      updates.push({
        update_id: nextUpdateId++,
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat,
          from: { id: message.fromId, is_bot: false, first_name: message.firstName },
          text: message.text,
        },
      });
      for (const wake of [...waiters]) wake();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const wake of [...waiters]) wake();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
