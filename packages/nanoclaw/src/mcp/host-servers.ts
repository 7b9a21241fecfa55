/**
 * MCP servers that run beside the host because they hold a credential (Gmail's OAuth tokens): each a
 * child process of this one, serving streamable HTTP on a unix socket in `data/mcp/`, a directory no agent
 * container mounts. A server starts when a run first needs it and keeps running; its config (secrets
 * included) goes on its stdin, never its environment or command line, and stdin stays open, so a server
 * ends when this process does, however it ends. One that exits is started again when next needed, after a
 * pause that doubles with each failure in a row (1 s up to a minute, ±20%), so a broken one is not hammered.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import type { Logger } from '../log.ts';

const READY_TIMEOUT_MS = 15_000;
/** Before a server that failed to start is tried again (it is tried only when next needed). */
const START_BACKOFF: Backoff = { firstMs: 1_000, longestMs: 60_000, jitter: 0.2 };
const STOP_GRACE_MS = 5000;

export interface HostServerDefinition {
  name: string;
  /** The module its child process runs. */
  entry: string;
  /** Why it cannot run here (its credential's client is not configured), or undefined when it can. */
  unavailable(): string | undefined;
  /** Its stdin config line, listening on `socketPath`. Holds secrets: never logged. */
  config(socketPath: string): object;
}

interface Running {
  child: ChildProcess;
  ready: Promise<string>;
}

export class HostMcpServers {
  readonly #definitions: Map<string, HostServerDefinition>;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #running = new Map<string, Running>();
  readonly #failures = new Map<string, { count: number; retryAt: number }>();
  #stopped = false;

  constructor(definitions: HostServerDefinition[], dir: string, log: Logger) {
    this.#definitions = new Map(definitions.map((definition) => [definition.name, definition]));
    this.#dir = dir;
    this.#log = log.child({ component: 'mcp-host-servers' });
  }

  /** The servers this host knows how to run. */
  get names(): ReadonlySet<string> {
    return new Set(this.#definitions.keys());
  }

  /** Why `name` cannot be given to a run now, or undefined when it can. */
  unavailable(name: string): string | undefined {
    const definition = this.#definitions.get(name);
    return definition === undefined ? `this NanoClaw runs no "${name}" server` : definition.unavailable();
  }

  /** The socket of `name`'s server, started first if it is not running. */
  socketOf(name: string): Promise<string> {
    const running = this.#running.get(name);
    if (running !== undefined) return running.ready;
    const definition = this.#definitions.get(name);
    if (definition === undefined) return Promise.reject(new Error(`this NanoClaw runs no "${name}" server`));
    const why = definition.unavailable();
    if (why !== undefined) return Promise.reject(new Error(why));
    const failed = this.#failures.get(name);
    if (failed !== undefined && failed.retryAt > Date.now())
      return Promise.reject(
        new Error(
          `the ${name} server failed to start (${failed.count} in a row); trying again in ${Math.ceil((failed.retryAt - Date.now()) / 1000)} s`,
        ),
      );
    return this.#start(definition).ready;
  }

  /** Ends every server: stdin closed (its cue to exit), killed if it has not gone within STOP_GRACE_MS. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(
      [...this.#running.values()].map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        child.stdin?.end();
        return exited.finally(() => clearTimeout(kill));
      }),
    );
  }

  #start(definition: HostServerDefinition): Running {
    const { name } = definition;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const socketPath = join(this.#dir, `${name}.sock`);
    // Only what Node needs: none of this process's environment (the model's key, channel tokens).
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', definition.entry], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: process.env.NODE_ENV ?? 'production' },
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) =>
      this.#log.info({ server: name, line }, 'host MCP server output'),
    );
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`the ${name} server did not start within ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line !== 'listening') return;
        clearTimeout(timer);
        this.#failures.delete(name);
        this.#log.info({ server: name, pid: child.pid }, 'host MCP server started');
        resolve(socketPath);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the ${name} server exited (${signal ?? `code ${code}`}) before it was ready`));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const running: Running = { child, ready };
    this.#running.set(name, running);
    ready.catch((error: Error) => this.#failed(name, error));
    child.once('exit', (code, signal) => {
      if (this.#running.get(name) === running) this.#running.delete(name);
      if (!this.#stopped)
        this.#log.warn(
          { server: name, code, signal },
          'host MCP server exited; it starts again when next needed',
        );
    });
    // A child that died is seen by its exit; writing to it then is no error of ours.
    child.stdin?.on('error', () => undefined);
    child.stdin?.write(`${JSON.stringify(definition.config(socketPath))}\n`);
    return running;
  }

  #failed(name: string, error: Error): void {
    const count = (this.#failures.get(name)?.count ?? 0) + 1;
    const delay = backoffDelay(START_BACKOFF, count);
    this.#failures.set(name, { count, retryAt: Date.now() + delay });
    this.#log.error(
      { server: name, failures: count, retryInMs: delay, error: error.message },
      'host MCP server failed to start',
    );
  }
}
