/** What every MCP tool knows about its run, and the two shapes of its answer to the model. */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface ToolContext {
  /** This group's IPC directory (`/workspace/ipc` in the container). */
  ipcDir: string;
  /** The group's own chat: where send_message goes unless told otherwise. */
  chatJid: string;
  isMain: boolean;
  /** The group's folder (`/workspace/group`): the files send_file may send are in it. */
  groupDir: string;
  /** How long a tool waits for the host's answer to its request (host-request.ts). */
  replyTimeoutMs: number;
}

export function done(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

/** A tool call that did nothing; the model sees why and can correct itself. */
export function refused(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
