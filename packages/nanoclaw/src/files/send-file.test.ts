/**
 * The agent's send_file, both sides: the agent package's real tool writes its request into a real host's
 * IPC dir, the host reads the file beneath the requester's own folder (never through a link, never past
 * the limit), keeps a copy with the chat's files and posts it; every refusal reaches the model with why.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanoclawTools } from '../../../nanoclaw-agent/src/mcp-tools.ts';
import { loadConfig } from '../config.ts';
import { silentLogger } from '../log.ts';
import { type Nanoclaw, startNanoclaw } from '../nanoclaw.ts';
import { ChatClient, until } from '../testing/e2e-host.ts';
import { PNG } from '../testing/images.ts';
import { tempHome } from '../testing/temp-home.ts';
import { MAX_FILE_BYTES } from './limits.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let nanoclaw: Nanoclaw;
const chat = new ChatClient(() => nanoclaw.url);

beforeAll(async () => {
  home = await tempHome();
  mkdirSync(join(home.path, 'data'), { recursive: true });
  writeFileSync(
    join(home.path, 'data', 'registered_groups.json'),
    JSON.stringify({
      'web:main': { name: 'Main', folder: 'main', addedAt: '2026-01-01T00:00:00Z' },
      'web:family': { name: 'Family', folder: 'family', addedAt: '2026-01-01T00:00:00Z' },
    }),
  );
  nanoclaw = await startNanoclaw(loadConfig({ NANOCLAW_HOME: home.path, NANOCLAW_PORT: '0' }), {
    log: silentLogger,
  });
});

afterAll(async () => {
  await nanoclaw?.stop();
  await home.remove();
});

/** Calls send_file as group `folder`'s agent would, with its own IPC dir and folder. */
async function sendFile(folder: string, args: Record<string, unknown>) {
  const tool = nanoclawTools({
    ipcDir: nanoclaw.layout.ipcDir(folder),
    chatJid: `web:${folder}`,
    isMain: folder === 'main',
    groupDir: nanoclaw.layout.groupDir(folder),
    replyTimeoutMs: 10_000,
  }).find((candidate) => candidate.name === 'send_file');
  if (tool === undefined) throw new Error('no send_file tool');
  const result = await tool.handler(args as never, {});
  const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
  return { text, isError: result.isError === true };
}

type Listed = {
  text: string;
  from_assistant: boolean;
  attachments: Array<{ name: string; type: string; url: string }>;
};
const assistantMessages = async (name: string) =>
  ((await chat.messages(name)) as unknown as Listed[]).filter((message) => message.from_assistant);

describe('send_file', () => {
  it("posts a file of the group's folder to its chat, kept with the chat's files, shown as an image", async () => {
    const group = nanoclaw.layout.groupDir('main');
    mkdirSync(join(group, 'out'), { recursive: true });
    writeFileSync(join(group, 'out', 'chart.png'), PNG);
    expect(await sendFile('main', { path: `${group}/out/chart.png`, caption: 'the chart' })).toEqual({
      text: 'Sent out/chart.png.',
      isError: false,
    });
    const [sent] = await assistantMessages('main');
    expect(sent).toMatchObject({
      text: 'the chart',
      attachments: [{ name: 'chart.png', type: 'image/png', url: 'api/chats/main/files/chart.png' }],
    });
    expect(readFileSync(join(group, 'files', 'chart.png'))).toEqual(PNG);
    const served = await fetch(`${nanoclaw.url}/${sent?.attachments[0]?.url}`);
    expect([served.status, served.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG);
  });

  it("lets main send into another chat (kept in that chat's folder), and no other group do so", async () => {
    const main = nanoclaw.layout.groupDir('main');
    writeFileSync(join(main, 'menu.txt'), 'soup\n');
    expect(await sendFile('main', { path: 'menu.txt', chat_jid: 'web:family' })).toEqual({
      text: 'Sent menu.txt to web:family.',
      isError: false,
    });
    await until(
      async () => (await assistantMessages('family')).length === 1 || undefined,
      'the file in family',
    );
    expect(readFileSync(join(nanoclaw.layout.groupDir('family'), 'files', 'menu.txt'), 'utf8')).toBe(
      'soup\n',
    );

    writeFileSync(join(nanoclaw.layout.groupDir('family'), 'list.txt'), 'eggs\n');
    expect(await sendFile('family', { path: 'list.txt', chat_jid: 'web:main' })).toEqual({
      text: 'The host refused this request: group family may only message its own chat',
      isError: true,
    });
  });

  it('refuses what is not a plain file of the folder, telling the model why', async () => {
    const group = nanoclaw.layout.groupDir('family');
    symlinkSync('/etc/passwd', join(group, 'passwd'));
    symlinkSync('/etc', join(group, 'etc'));
    mkdirSync(join(group, 'folder'));
    writeFileSync(join(group, 'huge.bin'), Buffer.alloc(MAX_FILE_BYTES + 1));
    const refusals = [
      [{ path: '../main/CLAUDE.md' }, '../main/CLAUDE.md is not a file inside'],
      [{ path: '/etc/passwd' }, '/etc/passwd is not a file inside'],
      [
        { path: 'passwd' },
        'The host refused this request: passwd is (or goes through) a link; links are not followed',
      ],
      [
        { path: 'etc/hostname' },
        'The host refused this request: etc/hostname goes through something that is not a folder',
      ],
      [{ path: 'folder' }, 'The host refused this request: folder is not a regular file'],
      [
        { path: 'huge.bin' },
        'The host refused this request: huge.bin is larger than 10 MB, the limit for a file',
      ],
      [
        { path: 'nowhere.txt' },
        "The host refused this request: there is no nowhere.txt in the group's folder",
      ],
    ] as const;
    for (const [args, reason] of refusals) {
      const answer = await sendFile('family', args);
      expect([args.path, answer.isError, answer.text]).toEqual([
        args.path,
        true,
        expect.stringContaining(reason),
      ]);
    }
    expect(await assistantMessages('family')).toHaveLength(1);
  });
});
