/** Turns a scripted reply into what the Messages API answers: SSE events, or one JSON message. */
import { randomBytes } from 'node:crypto';
import type { MessagesRequest, ScriptedBlock } from './messages.ts';

interface AssistantMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<
    { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown }
  >;
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: MessageUsage;
}

/** What the API reports a request used; cache counts are scripted too, so that meters see every field. */
export interface MessageUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** A rough token count (4 characters a token), enough for clients that budget their context. */
export function estimateTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

export function assistantMessage(request: MessagesRequest, blocks: ScriptedBlock[]): AssistantMessage {
  const content = blocks.map((block) =>
    block.type === 'text'
      ? { type: 'text' as const, text: block.text }
      : {
          type: 'tool_use' as const,
          id: block.id ?? randomId('toolu'),
          name: block.name,
          input: block.input,
        },
  );
  return {
    id: randomId('msg'),
    type: 'message',
    role: 'assistant',
    model: request.model,
    content,
    stop_reason: content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: usageOf(estimateTokens([request.system, request.messages]), estimateTokens(content)),
  };
}

function usageOf(input: number, output: number): MessageUsage {
  return {
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: Math.floor(input / 4),
    cache_read_input_tokens: Math.floor(input / 2),
  };
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The SSE events of a streamed message, in the order the API sends them. */
export function streamEvents(message: AssistantMessage): string[] {
  const events = [
    event('message_start', {
      message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
    }),
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      events.push(event('content_block_delta', { index, delta: { type: 'text_delta', text: block.text } }));
    } else {
      events.push(
        event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        }),
      );
      events.push(
        event('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
        }),
      );
    }
    events.push(event('content_block_stop', { index }));
  });
  events.push(
    event('message_delta', {
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    }),
  );
  events.push(event('message_stop', {}));
  return events;
}
