/**
 * `data/state.json`: per chat, how far the assistant has answered (a message `received_at`), and per group
 * the agent session to resume. This class is the file's only writer; every change is written atomically
 * before it returns.
 */
import { readJson, writeJsonAtomic } from './json-file.ts';

interface StateFile {
  cursors: Record<string, number>;
  sessions: Record<string, string>;
  archivedSessions: Array<{ folder: string; sessionId: string; archivedAt: string }>;
}

export class RouterState {
  readonly #path: string;
  #state: StateFile;

  constructor(path: string) {
    this.#path = path;
    this.#state = parseState(readJson(path, {}), path);
  }

  cursor(chatJid: string): number {
    return this.#state.cursors[chatJid] ?? 0;
  }

  /** Moves a chat's cursor forward; never back. */
  advanceCursor(chatJid: string, receivedAt: number): void {
    if (receivedAt <= this.cursor(chatJid)) return;
    this.#write({ ...this.#state, cursors: { ...this.#state.cursors, [chatJid]: receivedAt } });
  }

  session(folder: string): string | undefined {
    return this.#state.sessions[folder];
  }

  setSession(folder: string, sessionId: string): void {
    if (this.#state.sessions[folder] === sessionId) return;
    this.#write({ ...this.#state, sessions: { ...this.#state.sessions, [folder]: sessionId } });
  }

  /** Forgets a group's session (keeping a record of it); the next run starts a fresh one. */
  archiveSession(folder: string, now: Date): string | undefined {
    const sessionId = this.#state.sessions[folder];
    if (sessionId === undefined) return undefined;
    const { [folder]: _archived, ...sessions } = this.#state.sessions;
    this.#write({
      ...this.#state,
      sessions,
      archivedSessions: [
        ...this.#state.archivedSessions,
        { folder, sessionId, archivedAt: now.toISOString() },
      ],
    });
    return sessionId;
  }

  #write(state: StateFile): void {
    writeJsonAtomic(this.#path, state);
    this.#state = state;
  }
}

function parseState(value: unknown, path: string): StateFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${path}: expected an object with cursors and sessions`);
  }
  const raw = value as Partial<StateFile>;
  const cursors = raw.cursors ?? {};
  for (const [jid, cursor] of Object.entries(cursors)) {
    if (typeof cursor !== 'number' || !Number.isFinite(cursor)) {
      throw new Error(`${path}: cursors["${jid}"] must be a number`);
    }
  }
  const sessions = raw.sessions ?? {};
  for (const [folder, session] of Object.entries(sessions)) {
    if (typeof session !== 'string') throw new Error(`${path}: sessions["${folder}"] must be a string`);
  }
  const archivedSessions = raw.archivedSessions ?? [];
  if (!Array.isArray(archivedSessions)) throw new Error(`${path}: archivedSessions must be a list`);
  return { cursors, sessions, archivedSessions };
}
