/**
 * The slice of the Anthropic Messages API that the scripted model server speaks: the request it parses
 * and the replies a test scripts. Field names are the wire's (snake_case), so requests read as logged.
 */

export interface TextBlock {
  type: 'text';
  text: string;
  [key: string]: unknown;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | TextBlock[] | Array<{ type: string; [key: string]: unknown }>;
  is_error?: boolean;
}

/** Any block a client may send; the ones tests read are typed above. */
export type RequestBlock =
  | TextBlock
  | ToolUseBlock
  | ToolResultBlock
  | { type: string; [key: string]: unknown };

export interface RequestMessage {
  // The CLI also sends 'system' turns (its environment notes) between user turns.
  role: 'user' | 'assistant' | 'system';
  content: string | RequestBlock[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  input_schema?: unknown;
  [key: string]: unknown;
}

/** A parsed `POST /v1/messages` body. */
export interface MessagesRequest {
  model: string;
  max_tokens?: number;
  system?: string | TextBlock[];
  messages: RequestMessage[];
  tools?: ToolDefinition[];
  stream?: boolean;
  [key: string]: unknown;
}

/** One block of a scripted assistant reply; a tool_use gets a generated id unless given one. */
export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

/**
 * The assistant's reply to one request: its content blocks (stop_reason is `tool_use` when any block is
 * a tool_use, else `end_turn`), or an API error answered with that HTTP status.
 */
export type ScriptedReply = ScriptedBlock[] | { error: { status: number; message: string } };

export type Responder = (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply>;
