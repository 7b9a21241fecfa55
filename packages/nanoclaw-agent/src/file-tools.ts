/**
 * `send_file`: posts a file of the group's folder to the chat, an image shown as one. The request names
 * the file by its path inside the folder; the host reads it there itself (never following a link, at most
 * the chat's file limit), keeps a copy with the chat's files and sends it (AGENT-PROTOCOL.md, "Requests").
 */
import { isAbsolute, relative } from 'node:path';
import { tool } from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';
import { keepBrowserOutput } from './browser-output.ts';
import { askHost } from './host-request.ts';
import type { RequestFile } from './ipc-requests.ts';
import { refused, type ToolContext } from './tool-context.ts';

/** The path relative to the group's folder, or why the file cannot be sent from where it is. */
export function pathInGroup(path: string, groupDir: string): string | { problem: string } {
  const inside = isAbsolute(path) ? relative(groupDir, path) : path.replace(/^\.\//, '');
  const segments = inside.split('/');
  if (inside === '' || segments.some((segment) => segment === '..' || segment === '' || segment === '.'))
    return {
      problem: `${path} is not a file inside ${groupDir}: copy it into that folder first (e.g. ${groupDir}/out/), then send it from there.`,
    };
  return inside;
}

/** A file the browser saved in its own directory is copied into the group's first (browser-output.ts). */
async function keptOrInGroup(path: string, groupDir: string): Promise<string | { problem: string }> {
  try {
    return (await keepBrowserOutput(path, groupDir)) ?? pathInGroup(path, groupDir);
  } catch (error) {
    return {
      problem: `${path} could not be copied into ${groupDir} to be sent: ${(error as Error).message}`,
    };
  }
}

export function sendFileTool(context: ToolContext) {
  return tool(
    'send_file',
    `Send a file to the chat: an image (PNG, JPEG, GIF, WebP) is shown as one, any other file as a download. The file must be in ${context.groupDir} (up to 10 MB), or be one the browser saved without a filename (it is copied into ${context.groupDir}/browser/ first); files people sent are in ${context.groupDir}/files/.${
      context.isMain ? ' As the main group you may send to another registered chat with chat_jid.' : ''
    }`,
    {
      path: z
        .string()
        .min(1)
        .describe(`The file's path, inside ${context.groupDir} (absolute, or relative to it)`),
      caption: z.string().optional().describe('Text to go with the file'),
      chat_jid: z.string().optional().describe("The chat to send to; this group's own chat when left out"),
    },
    async (args) => {
      const path = await keptOrInGroup(args.path, context.groupDir);
      if (typeof path !== 'string') return refused(path.problem);
      const chatJid = args.chat_jid ?? context.chatJid;
      const request: RequestFile = { type: 'file', chatJid, path };
      if (args.caption) request.caption = args.caption;
      return askHost(context, request, () =>
        chatJid === context.chatJid ? `Sent ${path}.` : `Sent ${path} to ${chatJid}.`,
      );
    },
  );
}
