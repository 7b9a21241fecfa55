/**
 * Images and files in the real agent image, against the scripted model server: images named in the
 * input (and in a follow-up) reach the model as image blocks of the user turn, read from the group's
 * folder; the model's send_file writes its request for the host with the file's path inside that folder.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { type AgentDirs, startAgentContainer } from './testing/agent-container.ts';
import { useAgentFixture } from './testing/agent-fixture.ts';
import { answerRequests } from './testing/host-answers.ts';
import type { RequestBlock } from './testing/model-server.ts';
import { lastUserMessage, toolResults, toolResultText } from './testing/requests.ts';

const agent = useAgentFixture();
/** A 2x2 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4zwAE/xkgFAAb8gP91pbyKwAAAABJRU5ErkJggg==',
  'base64',
);
/** A 1x1 GIF. */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** A PNG of random pixels: it does not compress, so its size is about width x height x 3. */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Array.from({ length: height }, () =>
    Buffer.concat([Buffer.from([0]), randomBytes(width * 3)]),
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function input(dirs: AgentDirs, prompt: string, images: unknown[]) {
  return {
    prompt,
    sessionId: null,
    group: 'main',
    chatJid: 'web:main',
    isMain: true,
    isScheduledTask: false,
    assistantName: 'Andy',
    modelToken: agent.token(dirs),
    images,
  };
}

type ImageBlock = { type: 'image'; source: { type: string; media_type: string; data: string } };
const imagesOf = (blocks: RequestBlock[] | string | undefined): ImageBlock[] =>
  typeof blocks === 'string' || blocks === undefined
    ? []
    : blocks.filter((block): block is ImageBlock => block.type === 'image');

test('images of the input and of a follow-up reach the model as image blocks, read from the folder', async () => {
  const dirs = await agent.dirsFor('main');
  await writeFile(join(dirs.group, 'cat.png'), PNG);
  await writeFile(join(dirs.group, 'dot.gif'), GIF);
  agent.respond = (request) => [
    { type: 'text', text: `I see ${imagesOf(lastUserMessage(request)?.content).length} image(s)` },
  ];
  const run = startAgentContainer({
    input: input(dirs, '<messages><message sender="Ann">my cat</message></messages>', [
      { path: 'cat.png', mediaType: 'image/png' },
    ]),
    dirs,
    env: {},
  });
  const [first] = await run.waitForFrames(1);
  expect(first).toMatchObject({ status: 'success', result: 'I see 1 image(s)' });
  await run.writeFollowUp('<messages><message sender="Ann">and a dot</message></messages>', [
    { path: 'dot.gif', mediaType: 'image/gif' },
  ]);
  const [, second] = await run.waitForFrames(2);
  expect(second).toMatchObject({ status: 'success', result: 'I see 1 image(s)' });
  await run.close();
  expect(await run.exited).toBe(0);

  const [one, two] = agent.server.requests.map((request) => lastUserMessage(request)?.content);
  expect(imagesOf(one)).toEqual([
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } },
  ]);
  expect(imagesOf(two)).toEqual([
    { type: 'image', source: { type: 'base64', media_type: 'image/gif', data: GIF.toString('base64') } },
  ]);
  // Each image is named before it, so the model can tell which file it is.
  expect(JSON.stringify(one)).toContain('Image cat.png:');
});

test('an image over the Messages API limit is scaled down by the CLI, so the whole file limit can be shown', async () => {
  const dirs = await agent.dirsFor('main');
  const photo = noisePng(1400, 1400);
  expect(photo.length).toBeGreaterThan(5 * 1024 * 1024);
  await writeFile(join(dirs.group, 'photo.png'), photo);
  agent.respond = () => [{ type: 'text', text: 'a big one' }];
  const run = startAgentContainer({
    input: input(dirs, 'a phone photo', [{ path: 'photo.png', mediaType: 'image/png' }]),
    dirs,
    env: {},
  });
  await run.waitForFrames(1);
  await run.close();
  expect(await run.exited).toBe(0);
  const [image] = imagesOf(lastUserMessage(agent.server.requests[0] ?? { model: '', messages: [] })?.content);
  expect(image?.source.type).toBe('base64');
  expect(image?.source.data.length).toBeLessThanOrEqual(5 * 1024 * 1024);
});

test('send_file writes a file request naming the path inside the group folder, and hears the answer', async () => {
  const dirs = await agent.dirsFor('main');
  const stopAnswering = answerRequests(
    dirs.ipc,
    () => (request) =>
      request.path === 'out/missing.png'
        ? { status: 'refused', reason: "there is no out/missing.png in the group's folder" }
        : { status: 'accepted' },
  );
  const results: string[] = [];
  let call = 0;
  const calls = [
    { path: '/workspace/group/out/chart.png', caption: 'the chart' },
    { path: 'out/missing.png' },
    { path: '/etc/passwd' },
  ];
  agent.respond = (request) => {
    results.push(...toolResults(request).map(toolResultText));
    const next = calls[call++];
    return next === undefined
      ? [{ type: 'text', text: 'sent' }]
      : [{ type: 'tool_use', name: 'mcp__nanoclaw__send_file', input: next }];
  };
  const run = startAgentContainer({ input: input(dirs, 'send me the chart', []), dirs, env: {} });
  await run.waitForFrames(1);
  await run.close();
  expect(await run.exited).toBe(0);
  await stopAnswering();
  expect(results).toEqual([
    'Sent out/chart.png.',
    "The host refused this request: there is no out/missing.png in the group's folder",
    '/etc/passwd is not a file inside /workspace/group: copy it into that folder first (e.g. /workspace/group/out/), then send it from there.',
  ]);
  const dir = join(dirs.ipc, 'messages');
  const requests = await Promise.all(
    (await readdir(dir)).sort().map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8'))),
  );
  expect(requests).toEqual([
    { type: 'file', chatJid: 'web:main', path: 'out/chart.png', caption: 'the chart' },
    { type: 'file', chatJid: 'web:main', path: 'out/missing.png' },
  ]);
});
