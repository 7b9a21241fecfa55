/**
 * Helpers for end-to-end tests: the web chat API of a running host, and a host run as a real child
 * process (`bin/nanoclaw`) that a test can SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerClient, removeLeftovers } from '../agent/docker.ts';

export interface ChatMessage {
  id: string;
  sender: string;
  text: string;
  timestamp: string;
  from_assistant: boolean;
}

export class ChatClient {
  readonly #url: () => string;
  readonly #headers: Record<string, string>;
  /** `token`: the chat's NANOCLAW_WEB_TOKEN, when it has one. */
  constructor(url: () => string, token?: string) {
    this.#url = url;
    this.#headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  async post(chat: string, text: string, sender = 'Tester'): Promise<ChatMessage> {
    const response = await fetch(`${this.#url()}/api/chats/${chat}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.#headers },
      body: JSON.stringify({ sender, text }),
    });
    if (response.status !== 201) throw new Error(`POST ${chat}: ${response.status} ${await response.text()}`);
    return (await response.json()) as ChatMessage;
  }

  async messages(chat: string): Promise<ChatMessage[]> {
    const response = await fetch(`${this.#url()}/api/chats/${chat}/messages`, { headers: this.#headers });
    if (!response.ok) throw new Error(`GET ${chat}: ${response.status} ${await response.text()}`);
    return (await response.json()) as ChatMessage[];
  }

  async replies(chat: string): Promise<string[]> {
    return (await this.messages(chat))
      .filter((message) => message.from_assistant)
      .map((message) => message.text);
  }

  /** Waits until a reply satisfying `match` is in the chat, and returns it. */
  async reply(chat: string, match: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = (await this.replies(chat)).find(match);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `no matching reply in ${chat} within ${timeoutMs} ms; replies: ${JSON.stringify(await this.replies(chat))}`,
    );
  }
}

export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface HostProcess {
  child: ChildProcess;
  url: string;
  /** Every log line so far. */
  lines: string[];
}

const BIN = new URL('../../bin/nanoclaw', import.meta.url).pathname;

/** Starts `bin/nanoclaw` with `env` (values travel in the environment, not on a command line). */
export async function spawnHost(env: Record<string, string>): Promise<HostProcess> {
  const child = spawn(process.execPath, [BIN], {
    env: { PATH: process.env.PATH ?? '', NANOCLAW_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        try {
          const record = JSON.parse(line) as { url?: string; message?: string };
          if (record.url && record.message?.startsWith('NanoClaw is up')) resolve(record.url);
        } catch {
          // not a log line
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`nanoclaw exited with ${code} before it was up:\n${lines.join('\n')}`)),
    );
  });
  return { child, url, lines };
}

/** Removes the agent containers of a NanoClaw home (read from its data/host_id). */
export async function removeAgentContainersOf(home: string): Promise<void> {
  let hostId: string;
  try {
    hostId = readFileSync(join(home, 'data', 'host_id'), 'utf8').trim();
  } catch {
    return;
  }
  await removeLeftovers(dockerClient(undefined), hostId);
}
