/**
 * The in-process MCP server `nanoclaw` (tools `mcp__nanoclaw__*`): send_message and register_group here,
 * send_file in file-tools.ts, the task tools in task-tools.ts. Each request is one JSON file written
 * atomically into the IPC dir; the host authorises it by the directory it appears in, never by its
 * content, and answers in responses/ (host-request.ts).
 */
import { join } from 'node:path';
import { createSdkMcpServer, tool } from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';
import { sendFileTool } from './file-tools.ts';
import { askHost } from './host-request.ts';
import { FOLDER_PATTERN, MAIN_FOLDER, type RequestFile } from './ipc-requests.ts';
import { AVAILABLE_GROUPS_FILE } from './ipc-snapshots.ts';
import { NANOCLAW_SERVER_NAME } from './mcp-config.ts';
import { taskTools } from './task-tools.ts';
import { refused, type ToolContext } from './tool-context.ts';

function sendMessageTool(context: ToolContext) {
  return tool(
    'send_message',
    `Send a message to the chat right away, while you keep working (progress, several messages). Your final reply is sent anyway.${
      context.isMain ? ' As the main group you may message another registered chat with chat_jid.' : ''
    }`,
    {
      text: z.string().min(1).describe('The message text'),
      chat_jid: z.string().optional().describe("The chat to send to; this group's own chat when left out"),
    },
    async (args) => {
      const chatJid = args.chat_jid ?? context.chatJid;
      return askHost(context, { type: 'message', chatJid, text: args.text }, () =>
        chatJid === context.chatJid ? 'Message sent.' : `Message sent to ${chatJid}.`,
      );
    },
  );
}

function registerGroupTool(context: ToolContext) {
  return tool(
    'register_group',
    `Register a chat so that the assistant answers there, with its own folder and memory. Find the chat's jid in ${join(context.ipcDir, AVAILABLE_GROUPS_FILE)}.`,
    {
      jid: z.string().min(1).describe(`The chat id, as ${AVAILABLE_GROUPS_FILE} lists it`),
      name: z.string().min(1).describe('A display name for the group'),
      folder: z.string().describe('Folder name: lowercase letters, digits, "-" and "_", e.g. "family-chat"'),
      trigger: z
        .string()
        .optional()
        .describe('The trigger word, e.g. "@Andy"; the default trigger when left out'),
    },
    async (args) => {
      if (!FOLDER_PATTERN.test(args.folder))
        return refused(
          `folder "${args.folder}": use 1-64 lowercase letters, digits, "-" or "_", starting with a letter or digit.`,
        );
      if (args.folder === MAIN_FOLDER)
        return refused(`folder "${MAIN_FOLDER}" is the main group's own; choose another name.`);
      const request: RequestFile = {
        type: 'register_group',
        jid: args.jid,
        name: args.name,
        folder: args.folder,
      };
      if (args.trigger) request.trigger = args.trigger;
      return askHost(context, request, () => `Registered "${args.name}" as ${args.folder}.`);
    },
  );
}

/** The tools this run offers: register_group only to the main group (others never see it). */
export function nanoclawTools(context: ToolContext) {
  return [
    sendMessageTool(context),
    sendFileTool(context),
    ...taskTools(context),
    ...(context.isMain ? [registerGroupTool(context)] : []),
  ];
}

export function nanoclawMcpServer(context: ToolContext) {
  // alwaysLoad: in the tools list from the first request, never deferred behind tool search.
  return createSdkMcpServer({
    name: NANOCLAW_SERVER_NAME,
    version: '1.0.0',
    tools: nanoclawTools(context),
    alwaysLoad: true,
  });
}
