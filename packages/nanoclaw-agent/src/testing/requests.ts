/**
 * Reading a Messages API request the way a Responder needs to. What the `claude` CLI sends: the system
 * prompt as text blocks; CLAUDE.md memory and other context as `<system-reminder>` text blocks in the
 * first user message, before the prompt; `role: "system"` notes after it; tool results as the content
 * of the next user message.
 */
import type { MessagesRequest, RequestBlock, RequestMessage, ToolResultBlock } from './messages.ts';

function blocks(message: RequestMessage | undefined): RequestBlock[] {
  if (message === undefined) return [];
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function textOf(block: RequestBlock): string {
  return block.type === 'text' && typeof block.text === 'string' ? block.text : '';
}

/** The last message a user (or a tool result) sent. */
export function lastUserMessage(request: MessagesRequest): RequestMessage | undefined {
  return request.messages.filter((message) => message.role === 'user').at(-1);
}

/** The text blocks of the last user message, joined; tool results left out. */
export function lastUserText(request: MessagesRequest): string {
  return blocks(lastUserMessage(request)).map(textOf).filter(Boolean).join('\n');
}

/** The tool results the last user message carries: non-empty when the model's tool calls just ran. */
export function toolResults(request: MessagesRequest): ToolResultBlock[] {
  return blocks(lastUserMessage(request)).filter(
    (block): block is ToolResultBlock => block.type === 'tool_result',
  );
}

/** A tool result's content as text. */
export function toolResultText(result: ToolResultBlock): string {
  if (typeof result.content === 'string') return result.content;
  return (result.content ?? []).map((block) => (typeof block.text === 'string' ? block.text : '')).join('\n');
}

export function systemText(request: MessagesRequest): string {
  if (request.system === undefined) return '';
  return typeof request.system === 'string'
    ? request.system
    : request.system.map((block) => block.text).join('\n');
}

/** Every piece of text the model was shown: the system prompt and each message's text blocks. */
export function allText(request: MessagesRequest): string {
  const texts = request.messages.flatMap((message) => blocks(message).map(textOf));
  return [systemText(request), ...texts].filter(Boolean).join('\n');
}

/** The user prompts of the conversation so far (text blocks without the CLI's system reminders). */
export function userPrompts(request: MessagesRequest): string[] {
  return request.messages
    .filter((message) => message.role === 'user')
    .flatMap((message) => blocks(message).map(textOf))
    .filter((text) => text !== '' && !text.startsWith('<system-reminder>'));
}

export function toolNames(request: MessagesRequest): string[] {
  return (request.tools ?? []).map((tool) => tool.name);
}
