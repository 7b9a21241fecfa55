/**
 * A stdio MCP server, served from the agent's own process as a streamable HTTP one on loopback, that
 * starts only when a tool is called: `initialize`, `tools/list` and `ping` are answered from answers
 * recorded at image build (`recordAnswers`); the first `tools/call` starts the real server, replays the
 * session's `initialize` to it, and from then on each call goes to it and its answer comes back. Any
 * other method is refused: the server offers tools only.
 *
 * Why: the browser's server is Node loading Playwright (~0.25 s of the run's one CPU), and the CLI's own
 * start of any stdio server costs a run ~0.35 s more before its first model request, against ~0.05 s for
 * an HTTP one (bench/agent-browser.ts); most runs never open a page. The real server's requests to the
 * client are answered here: `roots/list` with the group's folder (its workspace), anything else refused.
 * Its notifications are dropped: none changes what a tool call returns.
 *
 * MCP's stdio transport is one JSON-RPC message per line, both ways.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

type Id = string | number;

interface Message {
  jsonrpc: '2.0';
  id?: Id;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: unknown;
}

interface Answers {
  initialize: Record<string, unknown>;
  tools: Record<string, unknown>;
}

export interface LazyServerOptions {
  /** The answers recordAnswers wrote. */
  answersPath: string;
  /** The real server: program and arguments. */
  command: string[];
  env: NodeJS.ProcessEnv;
  /** Its working directory, and the one root it is told of. */
  cwd: string;
  log(message: string): void;
}

export interface LazyServer {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  close(): void;
}

const RECORD_TIMEOUT_MS = 60_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const line = (message: Message) => `${JSON.stringify(message)}\n`;

/** A stdio server's process, one request at a time matched to its answer by id. */
class StdioPeer {
  readonly #child: ChildProcess;
  readonly #pending = new Map<Id, (message: Message) => void>();
  readonly exited: Promise<void>;
  #nextId = 1;

  constructor(
    command: string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string },
    onRequest: (message: Message) => Message['result'],
  ) {
    const [program, ...args] = command;
    this.#child = spawn(program as string, args, { ...options, stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child.stdin?.on('error', () => undefined);
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      const message = JSON.parse(text) as Message;
      if (message.method !== undefined && message.id !== undefined) {
        const result = onRequest(message);
        this.#child.stdin?.write(
          line(
            result === undefined
              ? {
                  jsonrpc: '2.0',
                  id: message.id,
                  error: { code: -32601, message: `${message.method} is not offered` },
                }
              : { jsonrpc: '2.0', id: message.id, result },
          ),
        );
      } else if (message.method === undefined && message.id !== undefined) {
        this.#pending.get(message.id)?.(message);
        this.#pending.delete(message.id);
      }
    });
    this.exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    void this.exited.then(() => {
      for (const answer of this.#pending.values())
        answer({ jsonrpc: '2.0', error: { code: -32000, message: 'the server exited' } });
      this.#pending.clear();
    });
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  request(method: string, params: unknown): Promise<Message> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#child.stdin?.write(
        line({ jsonrpc: '2.0', id, method, params: params as Record<string, unknown> }),
      );
    });
  }

  notify(method: string): void {
    this.#child.stdin?.write(line({ jsonrpc: '2.0', method }));
  }

  stop(): void {
    this.#child.stdin?.end();
    this.#child.kill();
  }
}

/** At image build: asks the real server what the stand-in will answer, and writes it down. */
export async function recordAnswers(path: string, command: string[]): Promise<void> {
  const peer = new StdioPeer(command, { env: process.env }, () => undefined);
  const timer = setTimeout(() => peer.stop(), RECORD_TIMEOUT_MS);
  try {
    const initialize = await peer.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'nanoclaw-lazy-mcp', version: '1' },
    });
    peer.notify('notifications/initialized');
    const tools = await peer.request('tools/list', {});
    if (initialize.result === undefined || tools.result === undefined)
      throw new Error(
        `the server did not answer initialize and tools/list: ${JSON.stringify(initialize.error ?? tools.error)}`,
      );
    await writeFile(path, `${JSON.stringify({ initialize: initialize.result, tools: tools.result })}\n`);
  } finally {
    clearTimeout(timer);
    peer.stop();
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
      if (body.length > MAX_BODY_BYTES) request.destroy(new Error('body too large'));
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

export async function startLazyServer(options: LazyServerOptions): Promise<LazyServer> {
  const answers = JSON.parse(await readFile(options.answersPath, 'utf8')) as Answers;
  const roots = { roots: [{ uri: pathToFileURL(options.cwd).href, name: 'group folder' }] };
  let initializeParams: Record<string, unknown> = {};
  let real: Promise<StdioPeer> | undefined;

  const wake = async (): Promise<StdioPeer> => {
    options.log(`starting ${options.command.slice(1, 2).join('')} for its first tool call`);
    const peer = new StdioPeer(options.command, { env: options.env, cwd: options.cwd }, (message) =>
      message.method === 'roots/list' ? roots : message.method === 'ping' ? {} : undefined,
    );
    // As the client began: its own initialize, then initialized; the answer is the recorded one's twin.
    const initialized = await peer.request('initialize', {
      ...initializeParams,
      capabilities: { roots: { listChanged: false } },
    });
    if (initialized.error !== undefined)
      throw new Error(`the server refused initialize: ${JSON.stringify(initialized.error)}`);
    peer.notify('notifications/initialized');
    return peer;
  };

  const answer = async (message: Message): Promise<Message | undefined> => {
    if (message.id === undefined) return undefined;
    const result = (value: Record<string, unknown>): Message => ({
      jsonrpc: '2.0',
      id: message.id,
      result: value,
    });
    switch (message.method) {
      case 'initialize':
        initializeParams = message.params ?? {};
        return result({
          ...answers.initialize,
          protocolVersion: message.params?.protocolVersion ?? answers.initialize.protocolVersion,
        });
      case 'tools/list':
        return result(answers.tools);
      case 'ping':
        return result({});
      case 'tools/call':
        break;
      default:
        // It offers tools only (its recorded capabilities); a probe of anything else is told so.
        return {
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32601, message: `${message.method} is not offered` },
        };
    }
    let peer = await real;
    if (peer === undefined || !peer.running) {
      real = wake();
      real.catch(() => {
        real = undefined;
      });
      peer = await real;
    }
    const forwarded = await peer.request('tools/call', message.params);
    return { ...forwarded, id: message.id };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' });
      return response.end();
    }
    const body = JSON.parse(await readBody(request)) as Message | Message[];
    const answered = (await Promise.all((Array.isArray(body) ? body : [body]).map(answer))).filter(
      (message): message is Message => message !== undefined,
    );
    if (answered.length === 0) {
      response.writeHead(202);
      return response.end();
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(Array.isArray(body) ? answered : answered[0]));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      options.log(`MCP request failed: ${error.message}`);
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: error.message } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () => {
      server.close();
      void real?.then(
        (peer) => peer.stop(),
        () => undefined,
      );
    },
  };
}
