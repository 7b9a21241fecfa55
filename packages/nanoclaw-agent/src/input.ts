/** The run's input: one JSON object on stdin (AGENT-PROTOCOL.md, "Input"), checked field by field. */
import { type AgentMcpServer, parseMcpServers } from './mcp-config.ts';

export type { AgentMcpServer } from './mcp-config.ts';

export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** The largest file of a chat, in bytes (10 MB): the host takes none larger, the agent reads images up to it. */
export const MAX_FILE_BYTES = 10_000_000;

/** An image of a turn, in the group's folder, handed to the model as an image. */
export interface AgentImage {
  /** Relative to the group's folder (the working directory), e.g. `files/photo.png`. */
  path: string;
  mediaType: (typeof IMAGE_MEDIA_TYPES)[number];
}

export interface AgentInput {
  /**
   * The first turn's text; null starts the run armed: the SDK starts now, with the group's session, and the
   * first turn comes as a follow-up, so the first message of a conversation does not wait for the start.
   */
  prompt: string | null;
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
  /** Images of the prompt's messages, in order; none when left out. */
  images?: AgentImage[];
  /** The group's MCP servers (mcp-config.ts); none when left out. */
  mcpServers?: AgentMcpServer[];
  /** This run's key to the host's MCP gateway, for `host` servers; like modelToken, it dies with the run. */
  mcpToken?: string | null;
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

/** `images` of an input or a follow-up: a list of {path, mediaType}, each path inside the group's folder. */
export function parseImages(value: unknown, field: string): AgentImage[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InputError(`${field}: expected a list, got ${describe(value)}`);
  return value.map((item, index) => {
    const { path, mediaType } = (item ?? {}) as Record<string, unknown>;
    if (
      typeof path !== 'string' ||
      path === '' ||
      path.startsWith('/') ||
      path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')
    )
      throw new InputError(
        `${field}[${index}].path: expected a path inside the group's folder, got ${describe(path)}`,
      );
    if (!(IMAGE_MEDIA_TYPES as readonly unknown[]).includes(mediaType))
      throw new InputError(
        `${field}[${index}].mediaType: expected one of ${IMAGE_MEDIA_TYPES.join(', ')}, got ${describe(mediaType)}`,
      );
    return { path, mediaType: mediaType as AgentImage['mediaType'] };
  });
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
    prompt: fields.prompt === null ? null : requireString(fields, 'prompt'),
    sessionId,
    group: requireString(fields, 'group'),
    chatJid: requireString(fields, 'chatJid'),
    isMain: requireBoolean(fields, 'isMain'),
    isScheduledTask: requireBoolean(fields, 'isScheduledTask'),
    assistantName: requireString(fields, 'assistantName'),
    modelToken: requireString(fields, 'modelToken'),
    ...(fields.images === undefined ? {} : { images: parseImages(fields.images, 'input.images') }),
    mcpServers: parseMcpServers(fields.mcpServers),
    mcpToken: typeof fields.mcpToken === 'string' && fields.mcpToken !== '' ? fields.mcpToken : null,
  };
}
