/**
 * A local stand-in for Telegram's Bot API, speaking its HTTP protocol (POST /bot<token>/<method>, JSON in,
 * `{"ok": true, "result"}` out, getUpdates long polling with offsets), so grammY runs unchanged against it
 * through `apiRoot`. Tests push updates and read what the bot called.
 *
 * Files as the Bot API has them: a photo or document in a pushed message is stored under a file_id;
 * `getFile` answers its `file_path`, and `GET /file/bot<token>/<file_path>` its bytes. Uploads
 * (sendPhoto, sendDocument) come as multipart/form-data, the file part named by an `attach://` field;
 * the call's body holds the file as `{ filename, bytes }`.
 *
 * Webhooks as Telegram does them: once setWebhook is called, getUpdates is refused (409) and each update is
 * POSTed to the URL with the secret in `X-Telegram-Bot-Api-Secret-Token`, in order, again after a failure
 * (every 100 ms, up to 50 times) until it is answered 2xx.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BotApiCall {
  method: string;
  body: Record<string, unknown>;
}

/** A file uploaded with a call (sendPhoto's `photo`, sendDocument's `document`). */
export interface UploadedFile {
  filename: string;
  bytes: Buffer;
}

export interface WebhookAnswer {
  updateId: number;
  /** The HTTP status the webhook answered, or 0 when it could not be reached. */
  status: number;
}

export interface BotApi {
  url: string;
  calls: BotApiCall[];
  /** getUpdates calls, which `calls` leaves out. */
  polls: number;
  /** Every answer the webhook gave to a delivery, in order. */
  webhookAnswers: WebhookAnswer[];
  /** The update pushed last, as Telegram would send it again. */
  lastUpdate(): unknown;
  /** Queues a message update, as Telegram would deliver it: text, or a photo or document with a caption. */
  pushMessage(message: {
    chatId: number;
    chatTitle?: string;
    fromId: number;
    firstName: string;
    text?: string;
    caption?: string;
    photo?: Buffer;
    document?: { name: string; mimeType: string; bytes: Buffer };
    /** The size the message announces, when it should not be the real one. */
    fileSize?: number;
  }): void;
  /** Paths of file downloads asked for (`/file/bot<token>/...`), in order. */
  downloads: string[];
  close(): Promise<void>;
}

export async function startBotApi(options: {
  token: string;
  username: string;
  /** Where it listens: loopback unless given (an instance reaches the host on its bridge address). */
  host?: string;
}): Promise<BotApi> {
  const calls: BotApiCall[] = [];
  const updates: Array<{ update_id: number; message: unknown }> = [];
  let nextUpdateId = 1;
  let nextMessageId = 1000;
  const waiters = new Set<() => void>();
  const webhookAnswers: WebhookAnswer[] = [];
  const pushed: unknown[] = [];
  let webhook: { url: string; secret: string | undefined } | undefined;
  let delivering = false;
  let closed = false;
  let polls = 0;
  const files = new Map<string, { bytes: Buffer; path: string }>();
  const downloads: string[] = [];
  let nextFile = 1;
  const storeFile = (bytes: Buffer, folder: string, extension: string) => {
    const id = `file-id-${nextFile}`;
    files.set(id, { bytes, path: `${folder}/file_${nextFile}${extension}` });
    nextFile++;
    return id;
  };

  /** Posts pending updates to the webhook, oldest first, each until it is taken. */
  const deliver = async () => {
    for (;;) {
      const update = updates[0];
      if (update === undefined || webhook === undefined || closed) return;
      let status = 0;
      for (let attempt = 0; attempt < 50 && !closed; attempt++) {
        status = await postUpdate(webhook.url, webhook.secret, update);
        webhookAnswers.push({ updateId: update.update_id, status });
        if (status >= 200 && status < 300) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      updates.shift(); // taken, or given up on as Telegram eventually does
    }
  };
  const startDelivery = () => {
    if (delivering) return;
    delivering = true;
    void deliver().finally(() => {
      delivering = false;
      if (webhook !== undefined && updates.length > 0 && !closed) startDelivery();
    });
  };

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
      case 'setWebhook':
        webhook = {
          url: String(body.url),
          secret: body.secret_token === undefined ? undefined : String(body.secret_token),
        };
        startDelivery();
        return true;
      case 'deleteWebhook':
        webhook = undefined;
        return true;
      case 'getUpdates': {
        if (webhook !== undefined)
          throw new ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
          );
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
      case 'getFile': {
        const file = files.get(String(body.file_id));
        if (file === undefined) throw new Error('Bad Request: invalid file_id');
        return {
          file_id: body.file_id,
          file_unique_id: `unique-${body.file_id}`,
          file_size: file.bytes.length,
          file_path: file.path,
        };
      }
      case 'sendPhoto':
      case 'sendDocument':
        return {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(body.chat_id), type: 'group', title: 'chat' },
          ...(body.caption === undefined ? {} : { caption: body.caption }),
        };
      default:
        throw new Error(`the stand-in has no method ${method}`);
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(request.url ?? '');
      if (download !== null) {
        downloads.push(request.url ?? '');
        const file = [...files.values()].find((candidate) => candidate.path === download[2]);
        if (download[1] !== options.token || file === undefined)
          return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        return response.end(file.bytes);
      }
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(request.url ?? '');
      if (match === null) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (match[1] !== options.token)
        return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const raw = Buffer.concat(chunks);
      const type = request.headers['content-type'] ?? '';
      const body = type.startsWith('multipart/form-data')
        ? await multipartBody(raw, type)
        : raw.length === 0
          ? {}
          : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
      const method = match[2] as string;
      if (method === 'getUpdates') polls++;
      else calls.push({ method, body });
      answer(method, body).then(
        (result) => reply(200, { ok: true, result }),
        (error: Error) => {
          const code = error instanceof ApiError ? error.code : 400;
          reply(code, { ok: false, error_code: code, description: error.message });
        },
      );
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    calls,
    get polls() {
      return polls;
    },
    webhookAnswers,
    downloads,
    lastUpdate: () => pushed.at(-1),
    pushMessage(message) {
      const chat =
        message.chatTitle === undefined
          ? { id: message.chatId, type: 'private', first_name: message.firstName }
          : { id: message.chatId, type: 'supergroup', title: message.chatTitle };
      const media: Record<string, unknown> = {};
      if (message.photo !== undefined) {
        // Telegram offers each photo in several sizes, smallest first; here a thumbnail and the photo.
        const size = message.fileSize ?? message.photo.length;
        media.photo = [
          {
            file_id: storeFile(message.photo.subarray(0, 16), 'photos', '.jpg'),
            file_size: 16,
            width: 9,
            height: 9,
          },
          { file_id: storeFile(message.photo, 'photos', '.jpg'), file_size: size, width: 90, height: 90 },
        ];
      }
      if (message.document !== undefined) {
        media.document = {
          file_id: storeFile(message.document.bytes, 'documents', ''),
          file_name: message.document.name,
          mime_type: message.document.mimeType,
          file_size: message.fileSize ?? message.document.bytes.length,
        };
      }
      const update = {
        update_id: nextUpdateId++,
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat,
          from: { id: message.fromId, is_bot: false, first_name: message.firstName },
          ...(message.text === undefined ? {} : { text: message.text }),
          ...(message.caption === undefined ? {} : { caption: message.caption }),
          ...media,
        },
      };
      updates.push(update);
      pushed.push(update);
      for (const wake of [...waiters]) wake();
      if (webhook !== undefined) startDelivery();
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const wake of [...waiters]) wake();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A multipart call's fields, each `attach://` reference replaced by the file part it names. */
async function multipartBody(raw: Buffer, type: string): Promise<Record<string, unknown>> {
  const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
  const parts = new Map<string, UploadedFile>();
  const fields: Record<string, unknown> = {};
  for (const [key, value] of form) {
    if (typeof value === 'string') fields[key] = value;
    else parts.set(key, { filename: value.name, bytes: Buffer.from(await value.arrayBuffer()) });
  }
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string' && value.startsWith('attach://')) fields[key] = parts.get(value.slice(9));
  }
  return fields;
}

class ApiError extends Error {
  readonly code: number;
  constructor(code: number, description: string) {
    super(description);
    this.code = code;
  }
}

/** One delivery: the update as JSON, the secret in its header; resolves with the status (0: unreachable). */
function postUpdate(url: string, secret: string | undefined, update: unknown): Promise<number> {
  const body = JSON.stringify(update);
  return new Promise((resolve) => {
    const outgoing = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', () => resolve(0));
    outgoing.end(body);
  });
}
