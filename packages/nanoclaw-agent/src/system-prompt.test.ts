import { expect, test } from 'vitest';
import type { AgentInput } from './input.ts';
import { firstPrompt, systemPromptAppend } from './system-prompt.ts';
import { workspacePaths } from './workspace.ts';

const paths = workspacePaths('/workspace');
const family: AgentInput & { prompt: string } = {
  prompt: 'Water the plants',
  sessionId: null,
  group: 'family',
  chatJid: 'tg:-100200',
  isMain: false,
  isScheduledTask: false,
  assistantName: 'Bob',
  modelToken: 'not-a-real-token',
};

test('the prompt names the assistant and the memory files; only main hears of registering and global writes', () => {
  const other = systemPromptAppend(family, paths);
  expect(other).toContain('You are Bob, a personal assistant');
  expect(other).toContain("/workspace/group/CLAUDE.md is this group's memory");
  expect(other).toContain('/workspace/global/CLAUDE.md is memory shared by every group (read-only here)');
  expect(other).not.toContain('register_group');

  const main = systemPromptAppend({ ...family, group: 'main', isMain: true }, paths);
  expect(main).toContain('you may update it when asked to remember something for all chats');
  expect(main).toContain(
    'mcp__nanoclaw__register_group; /workspace/ipc/available_groups.json lists the chats seen',
  );
});

test("a scheduled task's prompt is marked as the scheduler's; a chat prompt is passed as it came", () => {
  expect(firstPrompt(family)).toBe('Water the plants');
  expect(firstPrompt({ ...family, isScheduledTask: true })).toBe(
    '[Scheduled task: sent by the scheduler, not typed by a person just now.]\nWater the plants',
  );
});
