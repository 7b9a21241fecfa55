/**
 * Files in the web chat on a real host (no model configured, so no agent runs): picked with the attach
 * button, dropped and pasted in Debian's Chromium, sent as multipart, kept in the group's folder, shown
 * (images inline, other files as download links) and served only with the chat's token, as downloads
 * unless they are images.
 */
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { launchBrowser } from '../testing/browser.ts';
import { PNG } from '../testing/images.ts';
import { tempHome } from '../testing/temp-home.ts';

const TOKEN = 'files-test-token-of-tenant-a';
let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
let browser: Browser;
const bearer = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  home = await tempHome();
  nanoclaw = await startNanoclaw(
    loadConfig({ NANOCLAW_HOME: home.path, NANOCLAW_PORT: '0', NANOCLAW_WEB_TOKEN: TOKEN }),
    { log: silentLogger },
  );
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await nanoclaw?.stop();
  await home.remove();
});

const filesDir = () => join(nanoclaw.layout.groupDir('main'), 'files');

async function openChat(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${nanoclaw.url}/?token=${TOKEN}`);
  await page.fill('#sender', 'Alice');
  return page;
}

/** Posts a message with files as the page does (multipart). */
function postFiles(
  files: Array<{ name: string; bytes: Buffer | string }>,
  text = '',
  headers: Record<string, string> = bearer,
) {
  const form = new FormData();
  form.append('sender', 'Bob');
  form.append('text', text);
  for (const file of files) form.append('files', new Blob([file.bytes]), file.name);
  return fetch(`${nanoclaw.url}/api/chats/main/messages`, { method: 'POST', headers, body: form });
}

/** The browser's globals the page scripts below use (this package's types are Node's, without the DOM). */
interface Browserside {
  DataTransfer: new () => { items: { add(file: File): void } };
  ClipboardEvent: new (type: string, init: { clipboardData: unknown }) => unknown;
  document: { dispatchEvent(event: unknown): void };
}

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { message: string } }).error.message;

describe('web chat files in the page', () => {
  it('sends an image picked with the attach button and shows it inline; the page states the limits', async () => {
    const page = await openChat();
    expect(await page.locator('#limits').textContent()).toBe(
      'Up to 5 files of 10 MB each: attach, drop or paste them.',
    );
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#attach')]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles({ name: 'cat.png', mimeType: 'image/png', buffer: PNG });
    await expect.poll(() => page.locator('.pending').textContent()).toContain('cat.png');
    await page.fill('#text', 'look at my cat');
    await page.click('#send');
    const image = page.locator('.msg.mine img');
    await expect.poll(() => image.count()).toBe(1);
    await expect
      .poll(() => image.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(2);
    expect(await page.locator('.pending').count()).toBe(0);
    expect(readFileSync(join(filesDir(), 'cat.png'))).toEqual(PNG);
    // The form keeps room to type on a phone-sized screen, attach button and all.
    expect((await page.locator('#text').boundingBox())?.width).toBeGreaterThan(150);
    await page.close();
  });

  it('takes a dropped file and a pasted image, and shows the file as a download link', async () => {
    const page = await openChat();
    const dropped = await page.evaluateHandle(() => {
      const data = new (globalThis as unknown as Browserside).DataTransfer();
      data.items.add(new File(['a,b\n1,2\n'], 'numbers.csv', { type: 'text/csv' }));
      return data;
    });
    await page.dispatchEvent('#log', 'dragover', { dataTransfer: dropped });
    await page.dispatchEvent('#log', 'drop', { dataTransfer: dropped });
    await page.evaluate(
      (bytes) => {
        const browser = globalThis as unknown as Browserside;
        const data = new browser.DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
        browser.document.dispatchEvent(new browser.ClipboardEvent('paste', { clipboardData: data }));
      },
      [...PNG],
    );
    await expect
      .poll(() => page.locator('.pending').allTextContents())
      .toEqual(['numbers.csv (1 kB)×', 'image.png (1 kB)×']);
    await page.click('#send');
    const link = page.locator('.msg.mine a.file');
    await expect.poll(() => link.textContent()).toBe('numbers.csv (1 kB)');
    expect(await link.getAttribute('download')).toBe('numbers.csv');
    await expect.poll(() => page.locator('.msg.mine img[alt="image.png"]').count()).toBe(1);
    // What the link fetches, with the page's cookie: a download, never a page of the chat's origin.
    const fetched = await link.evaluate(async (anchor) => {
      const response = await fetch((anchor as unknown as { href: string }).href);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        disposition: response.headers.get('content-disposition'),
        nosniff: response.headers.get('x-content-type-options'),
        body: await response.text(),
      };
    });
    expect(fetched).toEqual({
      status: 200,
      type: 'application/octet-stream',
      disposition: `attachment; filename="numbers.csv"; filename*=UTF-8''numbers.csv`,
      nosniff: 'nosniff',
      body: 'a,b\n1,2\n',
    });
    await page.close();
  });

  it('refuses a file over the limit before sending it, and says why', async () => {
    const page = await openChat();
    const before = await page.locator('.msg').count();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#attach')]);
    await chooser.setFiles({
      name: 'huge.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(10_600_000),
    });
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe('huge.bin is 10.6 MB; a file may have at most 10.0 MB');
    expect(await page.locator('.pending').count()).toBe(0);
    expect(await page.locator('.msg').count()).toBe(before);
    await page.close();
  });
});

describe('web chat files over the API', () => {
  it('refuses bad names, too many and too large files, naming what is wrong', async () => {
    const cases: Array<[Response, number, string]> = [
      [
        await postFiles([{ name: '../escape.png', bytes: PNG }]),
        400,
        'file "../escape.png": the name has a path separator (/ or \\)',
      ],
      [await postFiles([{ name: '..', bytes: PNG }]), 400, 'file "..": the name starts with a dot'],
      [await postFiles([{ name: '.env', bytes: 'X=1' }]), 400, 'file ".env": the name starts with a dot'],
      [
        await postFiles([{ name: 'bell\u0007.txt', bytes: 'x' }]),
        400,
        'the name has control or formatting characters',
      ],
      [
        await postFiles([{ name: `${'n'.repeat(201)}.txt`, bytes: 'x' }]),
        400,
        'the name is longer than 200 bytes',
      ],
      [
        await postFiles([{ name: 'big.bin', bytes: Buffer.alloc(10_000_001) }]),
        413,
        'file "big.bin": 10000001 bytes, more than the 10 MB a file may have',
      ],
      [
        await postFiles(Array.from({ length: 6 }, (_, index) => ({ name: `f${index}.txt`, bytes: 'x' }))),
        413,
        '6 files: a message may carry at most 5',
      ],
      [await postFiles([]), 400, 'body.text: expected non-empty text (or files)'],
    ];
    for (const [response, status, message] of cases) {
      expect([response.status, await errorOf(response)]).toEqual([status, expect.stringContaining(message)]);
    }
  });

  it('keeps a file with only text in it, lists it with its sniffed type, and suffixes a taken name', async () => {
    const first = await postFiles([{ name: 'notes.txt', bytes: 'one' }], 'first notes');
    const second = await postFiles([{ name: 'notes.txt', bytes: 'two' }]);
    expect(first.status).toBe(201);
    const stored = (await second.json()) as { text: string; attachments: unknown[] };
    expect(stored).toMatchObject({
      text: '',
      attachments: [
        {
          name: 'notes-2.txt',
          type: 'application/octet-stream',
          size: 3,
          url: 'api/chats/main/files/notes-2.txt',
        },
      ],
    });
    expect(readFileSync(join(filesDir(), 'notes-2.txt'), 'utf8')).toBe('two');
  });

  it('serves images inline and everything else as a download, whatever the name or the client said', async () => {
    const form = new FormData();
    form.append('sender', 'Mallory');
    form.append(
      'files',
      new Blob(['<html><script>alert(document.cookie)</script>'], { type: 'image/png' }),
      'evil.png',
    );
    form.append('files', new Blob([PNG], { type: 'text/html' }), 'real image.html');
    const response = await fetch(`${nanoclaw.url}/api/chats/main/messages`, {
      method: 'POST',
      headers: bearer,
      body: form,
    });
    const { attachments } = (await response.json()) as {
      attachments: Array<{ name: string; type: string; url: string }>;
    };
    expect(attachments.map((file) => [file.name, file.type])).toEqual([
      ['evil.png', 'application/octet-stream'],
      ['real image.html', 'image/png'],
    ]);
    const served = async (url: string) => {
      const answer = await fetch(`${nanoclaw.url}/${url}`, { headers: bearer });
      return [
        answer.status,
        answer.headers.get('content-type'),
        answer.headers.get('content-disposition')?.split(';')[0],
        answer.headers.get('x-content-type-options'),
        answer.headers.get('content-security-policy'),
      ];
    };
    expect(await served(attachments[0]?.url as string)).toEqual([
      200,
      'application/octet-stream',
      'attachment',
      'nosniff',
      "default-src 'none'; sandbox",
    ]);
    expect(await served(attachments[1]?.url as string)).toEqual([
      200,
      'image/png',
      'inline',
      'nosniff',
      "default-src 'none'; sandbox",
    ]);
  });

  it('serves nothing through a link the agent put in files/, nor outside files/, nor another chat', async () => {
    await postFiles([{ name: 'seed.txt', bytes: 'x' }]);
    symlinkSync('/etc/passwd', join(filesDir(), 'passwd'));
    writeFileSync(join(nanoclaw.layout.groupDir('main'), 'secret-notes.md'), 'not a chat file');
    const get = (path: string) => fetch(`${nanoclaw.url}/api/chats/${path}`, { headers: bearer });
    const linked = await get('main/files/passwd');
    expect(linked.status).toBe(403);
    const body = await linked.text();
    expect(body).toContain('files/passwd is (or goes through) a link; links are not followed');
    expect(body).not.toContain('root:');
    expect((await get('main/files/..%2Fsecret-notes.md')).status).toBe(403);
    expect((await get('main/files/missing.png')).status).toBe(404);
    expect((await get('other/files/seed.txt')).status).toBe(404);
    expect((await get('main/files/%E0%A4%A')).status).toBe(400);
  });

  it("serves a file only with this chat's token: not without one, nor with another tenant's", async () => {
    const sent = (await (await postFiles([{ name: 'private.png', bytes: PNG }])).json()) as {
      attachments: Array<{ url: string }>;
    };
    const url = `${nanoclaw.url}/${sent.attachments[0]?.url}`;
    const otherHome = await tempHome();
    const otherToken = 'files-test-token-of-tenant-b';
    const other = await startNanoclaw(
      loadConfig({ NANOCLAW_HOME: otherHome.path, NANOCLAW_PORT: '0', NANOCLAW_WEB_TOKEN: otherToken }),
      { log: silentLogger },
    );
    try {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${otherToken}` } })).status).toBe(401);
      expect((await fetch(url, { headers: { cookie: `nanoclaw_token=${otherToken}` } })).status).toBe(401);
      // The other tenant's own chat has no such file.
      const theirs = await fetch(`${other.url}/${sent.attachments[0]?.url}`, {
        headers: { authorization: `Bearer ${otherToken}` },
      });
      expect(theirs.status).toBe(404);
      expect((await fetch(url, { headers: bearer })).status).toBe(200);
      expect((await postFiles([{ name: 'x.png', bytes: PNG }], '', {})).status).toBe(401);
    } finally {
      await other.stop();
      await otherHome.remove();
    }
  });
});
