/** The run's input: one JSON object on stdin (AGENT-PROTOCOL.md, "Input"), checked field by field. */

export interface AgentInput {
  prompt: string;
  /** The group's session to resume; null starts a new one. */
  sessionId: string | null;
  /** The group's folder name (its IPC and session directories are its own). */
  group: string;
  /** The group's own chat, where replies and send_message go by default. */
  chatJid: string;
  isMain: boolean;
  isScheduledTask: boolean;
  assistantName: string;
  /**
   * This run's key to the host's model proxy (AGENT-PROTOCOL.md, "The model"): valid for this run and
   * group only. The model's real credential never enters the container.
   */
  modelToken: string;
}

export class InputError extends Error {
  override name = 'InputError';
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '')
    throw new InputError(`input.${field}: expected a non-empty string, got ${describe(value)}`);
  return value;
}

function requireBoolean(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (typeof value !== 'boolean')
    throw new InputError(`input.${field}: expected true or false, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/** Parses stdin's text into an AgentInput, or throws an InputError naming the field that is wrong. */
export function parseInput(text: string): AgentInput {
  if (text.trim() === '') throw new InputError('input: stdin was empty; expected one JSON object');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new InputError(`input: stdin is not JSON (${(error as Error).message})`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InputError(`input: expected a JSON object, got ${describe(body)}`);
  const fields = body as Record<string, unknown>;
  const sessionId = fields.sessionId ?? null;
  if (sessionId !== null && (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)))
    throw new InputError(`input.sessionId: expected a session UUID or null, got ${describe(sessionId)}`);
  return {
    prompt: requireString(fields, 'prompt'),
    sessionId,
    group: requireString(fields, 'group'),
    chatJid: requireString(fields, 'chatJid'),
    isMain: requireBoolean(fields, 'isMain'),
    isScheduledTask: requireBoolean(fields, 'isScheduledTask'),
    assistantName: requireString(fields, 'assistantName'),
    modelToken: requireString(fields, 'modelToken'),
  };
}
