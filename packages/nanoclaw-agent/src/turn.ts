/**
 * One user turn of a run (the first prompt, or a follow-up) and the SDK message it becomes: each image
 * named by its path then shown as an image block (the Messages API's `{type: "image", source: {type:
 * "base64"}}`), then the turn's text. An image read from the group's folder that is gone, a link or too
 * large is left out with a note saying so, not failing the turn.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import { type AgentImage, MAX_FILE_BYTES } from './input.ts';

export interface Turn {
  text: string;
  images: AgentImage[];
}

/*
 * An image is read up to the limit of a file, MAX_FILE_BYTES. Beyond the Messages API's limits (2000 px a
 * side, 5 MiB base64) the `claude` CLI scales an image down and recompresses it itself: a 5.9 MB PNG of
 * noise reached the model as a 0.5 MB JPEG, a 3000 px wide one at 2000 px.
 */

type Block =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: AgentImage['mediaType']; data: string } };

export async function userMessage(turn: Turn, groupDir: string): Promise<SDKUserMessage> {
  if (turn.images.length === 0)
    return { type: 'user', message: { role: 'user', content: turn.text }, parent_tool_use_id: null };
  const blocks: Block[] = [];
  for (const image of turn.images) {
    try {
      const data = (await readImage(join(groupDir, image.path))).toString('base64');
      blocks.push({ type: 'text', text: `Image ${image.path}:` });
      blocks.push({ type: 'image', source: { type: 'base64', media_type: image.mediaType, data } });
    } catch (error) {
      blocks.push({
        type: 'text',
        text: `[image ${image.path} could not be read: ${(error as Error).message}]`,
      });
    }
  }
  blocks.push({ type: 'text', text: turn.text });
  return { type: 'user', message: { role: 'user', content: blocks }, parent_tool_use_id: null };
}

async function readImage(path: string): Promise<Buffer> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error('it is not there (moved or deleted?)');
    if (code === 'ELOOP') throw new Error('it is a link');
    throw error;
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new Error('it is not a regular file');
    if (stats.size > MAX_FILE_BYTES) throw new Error(`it is larger than ${MAX_FILE_BYTES} bytes`);
    return await file.readFile();
  } finally {
    await file.close();
  }
}
