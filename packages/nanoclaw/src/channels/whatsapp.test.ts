/**
 * The WhatsApp adapter at its boundary, inside a real host: Baileys' events in (through a socket
 * stand-in emitting the real event shapes), its socket calls out; real credential files on disk.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { launchBrowser } from '../testing/browser.ts';
import { PNG } from '../testing/images.ts';
import { tempHome } from '../testing/temp-home.ts';
import { type MediaServer, startMediaServer, waMediaMessage } from '../testing/whatsapp-media.ts';
import { closedWith, type SocketStandIn, standInFactory, waMessage } from '../testing/whatsapp-socket.ts';
import { WhatsAppChannel } from './whatsapp.ts';

const FAMILY = '120363000000000001@g.us';
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw | undefined;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(() => browser.close());
beforeEach(async () => {
  home = await tempHome();
  mkdirSync(join(home.path, 'data'), { recursive: true });
  writeFileSync(
    join(home.path, 'data', 'registered_groups.json'),
    JSON.stringify({
      'web:main': { name: 'Main', folder: 'main', addedAt: '2026-01-01T00:00:00Z' },
      [FAMILY]: { name: 'Family', folder: 'family', addedAt: '2026-01-01T00:00:00Z' },
    }),
  );
});
afterEach(async () => {
  await nanoclaw?.stop();
  nanoclaw = undefined;
  await home.remove();
});

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** An adapter on the stand-in socket factory, as the host makes it; `options` adds or overrides. */
function whatsAppChannel(
  factory: ReturnType<typeof standInFactory>,
  options: Partial<ConstructorParameters<typeof WhatsAppChannel>[0]> = {},
): WhatsAppChannel {
  return new WhatsAppChannel({
    authDir: join(home.path, 'auth'),
    assistantName: 'Andy',
    pairingPhoneNumber: undefined,
    log: silentLogger,
    makeSocket: factory.make,
    ...options,
  });
}

async function start(env: Record<string, string> = {}) {
  const factory = standInFactory();
  const starting = startNanoclaw(
    loadConfig({ NANOCLAW_HOME: home.path, NANOCLAW_PORT: '0', WHATSAPP_ENABLED: 'true', ...env }),
    { log: silentLogger, whatsappSocket: factory.make },
  );
  await until(() => factory.sockets.length === 1, 'the socket');
  const socket = factory.sockets[0] as SocketStandIn;
  return { factory, socket, starting };
}

describe('WhatsApp channel', () => {
  it('shows the QR code on the web page while pairing, then answers a registered group with its name', async () => {
    const { factory, socket, starting } = await start();
    socket.emit('connection.update', { qr: '2@standin-qr-payload,abc,def' });
    nanoclaw = await starting;

    const page = await browser.newPage();
    await page.goto(`${nanoclaw.url}/`);
    await expect.poll(() => page.locator('#pairing svg').count()).toBe(1);
    expect(await page.locator('#pairing').isVisible()).toBe(true);

    socket.emit('connection.update', { connection: 'open' });
    await expect.poll(() => page.locator('#pairing').isVisible()).toBe(false);
    const healthBody = (await (await fetch(`${nanoclaw.url}/health`)).json()) as { channels: unknown };
    expect(healthBody.channels).toMatchObject({ whatsapp: { state: 'connected' } });
    await page.close();

    // The credentials Baileys updates are saved where the workload syncs them.
    socket.config.auth?.creds &&
      Object.assign(socket.config.auth.creds, { me: { id: '4915100000000:1@s.whatsapp.net' } });
    socket.emit('creds.update', {});
    await until(() => existsSync(join(home.path, 'store', 'auth_info_baileys', 'creds.json')), 'creds.json');

    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        waMessage({
          jid: FAMILY,
          id: 'M1',
          text: 'dinner at 7?',
          participant: '4917@s.whatsapp.net',
          pushName: 'Oma',
        }),
        waMessage({
          jid: FAMILY,
          id: 'M2',
          text: '@andy what should we cook?',
          participant: '4918@s.whatsapp.net',
          pushName: 'Kim',
        }),
        waMessage({ jid: 'status@broadcast', id: 'S1', text: 'a status' }),
      ],
    });
    await until(() => socket.sent.length === 1, 'a reply');
    expect(socket.sent[0]?.jid).toBe(FAMILY);
    expect(socket.sent[0]?.text).toMatch(/^Andy: No model is configured/);

    // Baileys hands our own message back; it must not be taken as a new one.
    const echo = socket.sent[0] as { id: string; text: string };
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [waMessage({ jid: FAMILY, id: echo.id, text: echo.text, fromMe: true })],
    });
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        waMessage({ jid: FAMILY, id: 'OTHERDEVICE', text: 'Andy: sent from the phone', fromMe: true }),
      ],
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(socket.sent).toHaveLength(1);
    expect(factory.sockets).toHaveLength(1);
  });

  it('reconnects with the stored credentials after a dropped connection', async () => {
    const { factory, socket, starting } = await start();
    socket.emit('creds.update', {});
    socket.emit('connection.update', { connection: 'open' });
    nanoclaw = await starting;
    await until(() => existsSync(join(home.path, 'store', 'auth_info_baileys', 'creds.json')), 'creds.json');
    socket.emit('connection.update', closedWith(428));
    await until(() => factory.sockets.length === 2, 'a new socket');
    expect(factory.sockets[1]?.config.auth?.creds.noiseKey).toEqual(socket.config.auth?.creds.noiseKey);
    factory.sockets[1]?.emit('connection.update', { connection: 'open' });
    await until(async () => {
      const body = (await (await fetch(`${nanoclaw?.url}/health`)).json()) as {
        channels: { whatsapp: { state: string } };
      };
      return body.channels.whatsapp.state === 'connected';
    }, 'connected again');
  });

  it('gives up after its reconnects in a row fail, and says so', async () => {
    const factory = standInFactory();
    const channel = whatsAppChannel(factory, {
      reconnectBackoff: { firstMs: 1, longestMs: 4, jitter: 0.2 },
      maxReconnects: 3,
    });
    const connecting = channel.connect();
    await until(() => factory.sockets.length === 1, 'the socket');
    factory.sockets[0]?.emit('connection.update', closedWith(428));
    await connecting;
    for (let reconnect = 1; reconnect <= 3; reconnect++) {
      await until(() => factory.sockets.length === reconnect + 1, `reconnect ${reconnect}`);
      factory.sockets[reconnect]?.emit('connection.update', closedWith(428));
    }
    await until(() => channel.status().detail?.includes('gave up') === true, 'giving up');
    expect(channel.status()).toEqual({
      state: 'disconnected',
      detail: 'connection closed (428); gave up after 3 reconnects in a row: restart NanoClaw to try again',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(factory.sockets).toHaveLength(4);
    await channel.disconnect();
  });

  it('moves logged-out credentials aside and pairs again with a fresh QR code', async () => {
    const { factory, socket, starting } = await start();
    socket.emit('creds.update', {});
    socket.emit('connection.update', { connection: 'open' });
    nanoclaw = await starting;
    await until(() => existsSync(join(home.path, 'store', 'auth_info_baileys', 'creds.json')), 'creds.json');
    socket.emit('connection.update', closedWith(401));
    await until(() => factory.sockets.length === 2, 'a new socket');
    expect(
      readdirSync(join(home.path, 'store')).some((name) => name.startsWith('auth_info_baileys.logged-out-')),
    ).toBe(true);
    const status = (await (await fetch(`${nanoclaw.url}/api/status`)).json()) as {
      channels: { whatsapp: { state: string; detail: string } };
    };
    expect(status.channels.whatsapp.state).toBe('logged_out');
    expect(status.channels.whatsapp.detail).toContain('Scan the new QR code');
    expect(factory.sockets[1]?.config.auth?.creds.noiseKey).not.toEqual(socket.config.auth?.creds.noiseKey);
    factory.sockets[1]?.emit('connection.update', { qr: '2@fresh' });
    await until(async () => {
      const body = (await (await fetch(`${nanoclaw?.url}/api/status`)).json()) as {
        channels: { whatsapp: { qrSvg?: string } };
      };
      return body.channels.whatsapp.qrSvg?.startsWith('<svg') === true;
    }, 'a fresh QR code');
  });
});

describe('WhatsApp adapter on its own', () => {
  it('asks for a pairing code for the configured number instead of only a QR code', async () => {
    const factory = standInFactory();
    const printed: string[] = [];
    const channel = whatsAppChannel(factory, {
      pairingPhoneNumber: '4915100000000',
      printQr: (text) => printed.push(text),
    });
    const connecting = channel.connect();
    await until(() => factory.sockets.length === 1, 'the socket');
    const socket = factory.sockets[0] as SocketStandIn;
    socket.emit('connection.update', { qr: '2@qr' });
    await connecting;
    await until(() => channel.status().pairingCode !== undefined, 'a pairing code');
    expect(socket.pairingRequests).toEqual(['4915100000000']);
    expect(channel.status()).toMatchObject({ state: 'pairing', pairingCode: 'ABCD-1234' });
    socket.emit('connection.update', { qr: '2@qr-rotated' });
    expect(socket.pairingRequests).toHaveLength(1);

    socket.emit('connection.update', { connection: 'open' });
    await channel.setTyping(FAMILY, true);
    await channel.setTyping(FAMILY, false);
    expect(socket.presence).toEqual([
      { type: 'composing', jid: FAMILY },
      { type: 'paused', jid: FAMILY },
    ]);
    await channel.disconnect();
    expect(socket.ended).toBe(true);
    await expect(channel.sendMessage(FAMILY, 'x')).rejects.toThrow('WhatsApp is not connected');
  });

  it('maps messages in: text, captions, sender and time; history being synced is not taken as new', async () => {
    const factory = standInFactory();
    const channel = whatsAppChannel(factory);
    const received: Array<{
      id: string;
      text: string;
      sender: string;
      senderName: string;
      timestamp: number;
    }> = [];
    channel.onMessage(async (message) => {
      received.push(message);
    });
    const connecting = channel.connect();
    await until(() => factory.sockets.length === 1, 'the socket');
    const socket = factory.sockets[0] as SocketStandIn;
    socket.emit('connection.update', { connection: 'open' });
    await connecting;
    const at = Date.parse('2026-03-01T10:00:00Z');
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        waMessage({
          jid: FAMILY,
          id: 'OFFLINE',
          text: 'sent while we were down',
          participant: '49170@s.whatsapp.net',
          at,
        }),
        {
          key: { remoteJid: FAMILY, id: 'PHOTO', fromMe: false, participant: '49171@s.whatsapp.net' },
          message: { imageMessage: { caption: 'look at this' } },
          messageTimestamp: at / 1000,
          pushName: 'Kim',
        },
        {
          key: { remoteJid: FAMILY, id: 'STICKER', fromMe: false },
          message: { stickerMessage: {} },
          messageTimestamp: at / 1000,
        },
      ],
    });
    socket.emit('messages.upsert', {
      type: 'append',
      messages: [
        waMessage({ jid: FAMILY, id: 'HISTORY', text: 'an old message being synced', at }),
        waMessage({ jid: FAMILY, id: 'FROMPHONE', text: 'just typed on the phone', fromMe: true }),
      ],
    });
    await until(() => received.length === 3, 'the messages');
    expect(received.map((message) => [message.id, message.text, message.sender])).toEqual([
      ['OFFLINE', 'sent while we were down', '49170@s.whatsapp.net'],
      ['PHOTO', 'look at this', '49171@s.whatsapp.net'],
      ['FROMPHONE', 'just typed on the phone', '4915100000000:1@s.whatsapp.net'],
    ]);
    expect(received[0]?.timestamp).toBe(at);
    expect(received[1]?.senderName).toBe('Kim');
    await channel.disconnect();
  });

  it('prints the QR code for the terminal', async () => {
    const factory = standInFactory();
    const printed: string[] = [];
    const channel = whatsAppChannel(factory, {
      printQr: (text) => printed.push(text),
    });
    const connecting = channel.connect();
    await until(() => factory.sockets.length === 1, 'the socket');
    factory.sockets[0]?.emit('connection.update', { qr: '2@qr' });
    await connecting;
    expect(printed[0]).toContain('Scan with WhatsApp');
    expect(printed[0]?.split('\n').length).toBeGreaterThan(10);
    await channel.disconnect();
  });
});

describe('WhatsApp media', () => {
  let media: MediaServer;
  beforeAll(async () => {
    media = await startMediaServer();
  });
  afterAll(() => media.close());

  const stored = () => {
    const db = new DatabaseSync(nanoclaw?.layout.databasePath as string, { readOnly: true });
    try {
      return db
        .prepare('SELECT id, text, attachments FROM messages WHERE chat_jid = ? ORDER BY received_at')
        .all(FAMILY)
        .map((row) => ({
          id: row.id,
          text: row.text,
          attachments: JSON.parse(String(row.attachments ?? '[]')),
        }));
    } finally {
      db.close();
    }
  };
  const files = () => join(home.path, 'groups', 'family', 'files');

  it("keeps images and documents, downloaded and decrypted by Baileys from WhatsApp's media server", async () => {
    const { socket, starting } = await start();
    socket.emit('connection.update', { connection: 'open' });
    nanoclaw = await starting;
    const pdf = Buffer.from('%PDF-1.4 the minutes');
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        waMediaMessage({
          jid: FAMILY,
          id: 'IMG1',
          kind: 'image',
          media: media.upload(PNG, 'image'),
          mimetype: 'image/png',
          caption: 'the garden',
          participant: '4917@s.whatsapp.net',
        }),
        waMediaMessage({
          jid: FAMILY,
          id: 'DOC1',
          kind: 'document',
          media: media.upload(pdf, 'document'),
          mimetype: 'application/pdf',
          fileName: 'minutes.pdf',
          participant: '4918@s.whatsapp.net',
        }),
      ],
    });
    await until(() => stored().length === 2, 'both messages');
    expect(stored()).toEqual([
      {
        id: 'IMG1',
        text: 'the garden',
        attachments: [{ name: 'image-IMG1.jpg', type: 'image/png', size: PNG.length }],
      },
      {
        id: 'DOC1',
        text: '',
        attachments: [{ name: 'minutes.pdf', type: 'application/pdf', size: pdf.length }],
      },
    ]);
    expect(readFileSync(join(files(), 'image-IMG1.jpg'))).toEqual(PNG);
    expect(readFileSync(join(files(), 'minutes.pdf'))).toEqual(pdf);
  });

  it('asks the phone to upload expired media again, and keeps the message with a note when it cannot be had', async () => {
    const { socket, starting } = await start();
    socket.emit('connection.update', { connection: 'open' });
    nanoclaw = await starting;
    const expired = media.upload(PNG, 'image');
    media.expire(expired.url);
    const fresh = media.upload(PNG, 'image');
    socket.reupload = (message) => {
      const image = message.message?.imageMessage;
      return {
        ...message,
        message: { imageMessage: { ...image, url: fresh.url, mediaKey: fresh.mediaKey } },
      };
    };
    const message = (id: string, upload: typeof expired) =>
      waMediaMessage({ jid: FAMILY, id, kind: 'image', media: upload, mimetype: 'image/png', caption: id });
    socket.emit('messages.upsert', { type: 'notify', messages: [message('AGAIN', expired)] });
    await until(() => stored().length === 1, 'the re-uploaded image');
    expect(socket.reuploads.map((sent) => sent.key.id)).toEqual(['AGAIN']);
    expect(readFileSync(join(files(), 'image-AGAIN.jpg'))).toEqual(PNG);

    const gone = media.upload(PNG, 'image');
    media.expire(gone.url);
    socket.reupload = (sent) => sent;
    socket.emit('messages.upsert', { type: 'notify', messages: [message('GONE', gone)] });
    await until(() => stored().length === 2, 'the message without its image');
    expect(stored()[1]).toEqual({
      id: 'GONE',
      text: expect.stringMatching(/^GONE\n\[image-GONE\.jpg could not be fetched: .+\]$/),
      attachments: [],
    });
  });

  it("sends the agent's image as an image and other files as documents, from the user's own account", async () => {
    const { socket, starting } = await start();
    socket.emit('connection.update', { connection: 'open' });
    nanoclaw = await starting;
    const group = nanoclaw.layout.groupDir('family');
    writeFileSync(join(group, 'chart.png'), PNG);
    writeFileSync(join(group, 'list.txt'), 'eggs\n');
    const dir = join(nanoclaw.layout.ipcDir('family'), 'messages');
    const request = (name: string, body: unknown) => {
      writeFileSync(join(dir, `${name}.json.tmp`), JSON.stringify(body));
      renameSync(join(dir, `${name}.json.tmp`), join(dir, `${name}.json`));
    };
    request('1', { type: 'file', chatJid: FAMILY, path: 'chart.png', caption: 'the chart' });
    request('2', { type: 'file', chatJid: FAMILY, path: 'list.txt' });
    await until(() => socket.sent.length === 2, 'both files');
    expect(socket.sent.map((sent) => [sent.jid, sent.media])).toEqual([
      [FAMILY, { image: PNG, mimetype: 'image/png', caption: 'Andy: the chart' }],
      [
        FAMILY,
        {
          document: Buffer.from('eggs\n'),
          mimetype: 'application/octet-stream',
          fileName: 'list.txt',
          caption: 'Andy',
        },
      ],
    ]);
    // Baileys hands our own media back: not taken as a new message.
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        waMediaMessage({
          jid: FAMILY,
          id: socket.sent[0]?.id as string,
          kind: 'image',
          media: media.upload(PNG, 'image'),
          mimetype: 'image/png',
        }),
      ],
    });
    await until(
      () => stored().filter((message) => message.attachments.length > 0).length === 2,
      'the replies',
    );
    expect(stored().map((message) => message.id)).not.toContain(socket.sent[0]?.id);
  });
});
