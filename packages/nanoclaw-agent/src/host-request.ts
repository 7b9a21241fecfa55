/**
 * One request to the host, as a tool makes it: the file written into the IPC dir, then the host's answer
 * awaited (bounded by the run's `replyTimeoutMs`) and told to the model as it is: done, refused with the
 * host's reason, not done yet (the host retries), or not answered in time.
 */
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { awaitHostReply } from './host-replies.ts';
import { writeIpcFile } from './ipc-files.ts';
import { kindOf, type RequestFile } from './ipc-requests.ts';
import { done, refused, type ToolContext } from './tool-context.ts';

export async function askHost(
  context: ToolContext,
  request: RequestFile,
  accepted: (taskId: string | undefined) => string,
): Promise<CallToolResult> {
  const name = await writeIpcFile(join(context.ipcDir, kindOf(request.type)), request);
  const reply = await awaitHostReply(context.ipcDir, name, context.replyTimeoutMs);
  switch (reply.status) {
    case 'accepted':
      return done(accepted(reply.taskId));
    case 'refused':
      return refused(`The host refused this request: ${reply.reason}`);
    case 'failed':
      return refused(`The host could not carry this request out and set it aside: ${reply.reason}`);
    case 'retrying':
      return done(`Not done yet: the host could not carry this out (${reply.reason}) and will try again.`);
    case 'unanswered':
      return done('Sent to the host, which has not answered yet; it may still carry this out.');
  }
}
