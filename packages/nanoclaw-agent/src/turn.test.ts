import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { MAX_FILE_BYTES } from './input.ts';
import { userMessage } from './turn.ts';

let groupDir: string;
beforeEach(async () => {
  groupDir = await mkdtemp(join(tmpdir(), 'nanoclaw-turn-'));
  await mkdir(join(groupDir, 'files'));
});
afterEach(() => rm(groupDir, { recursive: true, force: true }));

test('a turn without images is its text, as before', async () => {
  expect(await userMessage({ text: 'hello', images: [] }, groupDir)).toEqual({
    type: 'user',
    message: { role: 'user', content: 'hello' },
    parent_tool_use_id: null,
  });
});

test("each image is named, then given as a base64 image block, before the turn's text", async () => {
  const bytes = Buffer.from('\x89PNG\r\n\x1a\n-the-rest');
  await writeFile(join(groupDir, 'files', 'cat.png'), bytes);
  const message = await userMessage(
    { text: '<messages>…</messages>', images: [{ path: 'files/cat.png', mediaType: 'image/png' }] },
    groupDir,
  );
  expect(message.message.content).toEqual([
    { type: 'text', text: 'Image files/cat.png:' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: bytes.toString('base64') } },
    { type: 'text', text: '<messages>…</messages>' },
  ]);
});

test('an image that is gone, a link or too large is left out with a note, and the turn goes on', async () => {
  await symlink('/etc/hostname', join(groupDir, 'files', 'link.png'));
  await writeFile(join(groupDir, 'files', 'big.png'), Buffer.alloc(MAX_FILE_BYTES + 1));
  await mkdir(join(groupDir, 'files', 'dir.png'));
  const message = await userMessage(
    {
      text: 'the text',
      images: ['gone.png', 'link.png', 'big.png', 'dir.png'].map((name) => ({
        path: `files/${name}`,
        mediaType: 'image/png' as const,
      })),
    },
    groupDir,
  );
  expect(message.message.content).toEqual([
    { type: 'text', text: '[image files/gone.png could not be read: it is not there (moved or deleted?)]' },
    { type: 'text', text: '[image files/link.png could not be read: it is a link]' },
    {
      type: 'text',
      text: `[image files/big.png could not be read: it is larger than ${MAX_FILE_BYTES} bytes]`,
    },
    { type: 'text', text: '[image files/dir.png could not be read: it is not a regular file]' },
    { type: 'text', text: 'the text' },
  ]);
});
