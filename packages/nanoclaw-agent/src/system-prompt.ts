/**
 * What the agent is told about its place, appended to Claude Code's own system prompt. Memory itself is
 * not in here: the CLI loads the CLAUDE.md files (group and global) as project instructions. The CLI
 * records a session's system prompt at its first turn, so only what holds for the whole session goes here.
 */
import type { AgentInput } from './input.ts';
import { AVAILABLE_GROUPS_FILE } from './ipc-snapshots.ts';
import type { WorkspacePaths } from './workspace.ts';

export function systemPromptAppend(input: AgentInput, paths: WorkspacePaths): string {
  const lines = [
    `You are ${input.assistantName}, a personal assistant answering in a chat app. Your final reply of each turn is posted to the chat as your message; keep it conversational and short unless asked for more.`,
    'Incoming chat messages arrive wrapped in <messages>, each with its time and sender. More messages may arrive while you work; answer them in turn.',
    'Use the mcp__nanoclaw__send_message tool to post something right away (e.g. a progress note on a long job). Use the task tools to schedule, list and manage tasks.',
    `Files people send are kept in ${paths.group}/files/ and named in their message as <attachment path="files/..." type="..." size="..."/> (paths relative to ${paths.group}); images among them are also shown to you, each after a line naming its path. To send a file or an image to the chat, put it in ${paths.group} and use mcp__nanoclaw__send_file.`,
    `Memory: ${paths.group}/CLAUDE.md is this group's memory; when asked to remember something, write it there. ${paths.global}/CLAUDE.md is memory shared by every group${
      input.isMain
        ? ' (you may update it when asked to remember something for all chats)'
        : ' (read-only here)'
    }. Files you keep in ${paths.group} stay between conversations.`,
  ];
  if (input.isMain)
    lines.push(
      `This is the main group: you may register other chats (mcp__nanoclaw__register_group; ${paths.ipc}/${AVAILABLE_GROUPS_FILE} lists the chats seen), message them, and manage tasks for any group.`,
    );
  return lines.join('\n');
}

/** A scheduled task's prompt, marked so the model knows no person is typing it now. */
export function firstPrompt(input: AgentInput & { prompt: string }): string {
  return input.isScheduledTask
    ? `[Scheduled task: sent by the scheduler, not typed by a person just now.]\n${input.prompt}`
    : input.prompt;
}
