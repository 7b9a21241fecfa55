/**
 * Agent containers through the Docker API: uid 1000, no capabilities, memory / CPU / pids caps, a
 * read-only root with a small /tmp, the group's mounts, only the model's environment. `prepare` creates
 * and starts one, attached, which waits for its input on stdin (so a container can be started ahead of
 * the message that needs it); `begin` hands it the input and closes stdin. Results come back framed on
 * stdout and are handed over as each frame completes; every other line goes to the run's log file.
 * Output beyond the size limit, or a turn beyond the time limit (armed by the caller), kills the
 * container. It is removed when it ends. Calls that find the engine's socket gone (Boilerhouse
 * restarting its filtered socket) wait for it to answer again, within a bound (engine-wait.ts), before
 * they fail.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
// Type only (erased at run time): the host image does not carry the agent package.
import type { AgentInput } from '@boilerhouse/nanoclaw-agent/input';
import type { ContainerSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import { AgentContainer, type RunEnd } from './agent-container.ts';
import { type ContainerExit, containerExit } from './container-exit.ts';
import { type CreateBody, demux, type Engine, type EngineContainer } from './engine.ts';
import { EngineWait } from './engine-wait.ts';
import type { Mount } from './mounts.ts';
import { OutputSink } from './output-sink.ts';

export type { RunEnd, StopReason } from './agent-container.ts';
export { AgentContainer } from './agent-container.ts';

/** What a container is made of. */
export interface ContainerSpec {
  name: string;
  labels: Record<string, string>;
  mounts: Mount[];
  env: Record<string, string>;
  settings: ContainerSettings;
  /** Replaces the image's command (e.g. a scripted agent in a plain Node image). */
  command?: string[];
}

export interface RunRequest extends ContainerSpec {
  input: AgentInput;
  logPath: string;
  onOutput(output: ParsedOutput): void;
}

export class AgentImageMissingError extends Error {}

/** Output kept from a prepared container before its run begins (it should print nothing). */
const EARLY_OUTPUT_LIMIT = 64 * 1024;

/** Two specs with one fingerprint make the same container (names and labels aside). */
export function fingerprint(spec: ContainerSpec): string {
  const { settings, mounts, env, command } = spec;
  return createHash('sha256')
    .update(JSON.stringify({ settings, mounts, env: Object.entries(env).sort(), command: command ?? null }))
    .digest('hex');
}

/** A started container waiting for its input. */
export class PreparedAgent {
  readonly name: string;
  readonly fingerprint: string;
  readonly #spec: ContainerSpec;
  readonly #container: EngineContainer;
  readonly #stream: Socket;
  readonly #streamEnded: Promise<void>;
  readonly #exit: Promise<ContainerExit>;
  readonly #log: Logger;
  readonly #engine: EngineWait;
  readonly #preparedAt = Date.now();
  #early: Array<{ stderr: boolean; chunk: Buffer }> = [];
  #earlyBytes = 0;
  #sink: OutputSink | undefined;
  #agent: AgentContainer | undefined;
  #exited = false;
  #taken = false;
  #connectionLost = false;

  constructor(
    spec: ContainerSpec,
    container: EngineContainer,
    stream: Socket,
    log: Logger,
    engine: EngineWait,
  ) {
    this.name = spec.name;
    this.#engine = engine;
    this.fingerprint = fingerprint(spec);
    this.#spec = spec;
    this.#container = container;
    this.#stream = stream;
    this.#log = log;
    demux(stream, (stderr, chunk) => this.#output(stderr, chunk));
    this.#streamEnded = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
    // Sent after the start: a wait sent before it would find the container "not running" and return at once.
    this.#exit = containerExit(container, this.#streamEnded, log, spec.name);
    this.#exit.then((exit) => {
      this.#exited = true;
      this.#connectionLost = exit.connectionLost;
    });
  }

  /** Still waiting for its input (not taken, not exited). */
  get usable(): boolean {
    return !this.#taken && !this.#exited;
  }

  /** Resolves when the container has exited, whether or not its run began. */
  get exited(): Promise<void> {
    return this.#exit.then(() => undefined);
  }

  /** Once exited: whether its connection to the engine was lost on the way (not its own doing). */
  get connectionLost(): boolean {
    return this.#connectionLost;
  }

  /** Whether its run has begun (or it was discarded). */
  get taken(): boolean {
    return this.#taken;
  }

  /** Hands the container its input; from now on it is a run. */
  begin(input: AgentInput, logPath: string, onOutput: (output: ParsedOutput) => void): AgentContainer {
    if (this.#taken) throw new Error(`${this.name} has already been given its input`);
    this.#taken = true;
    const logFile = createWriteStream(logPath, { flags: 'a', mode: 0o640 });
    logFile.write(runHeader(this.#spec, input, Date.now() - this.#preparedAt));
    this.#sink = new OutputSink({
      limit: this.#spec.settings.maxOutputBytes,
      logFile,
      onOutput,
      overLimit: () => this.#agent?.kill('output_limit'),
    });
    const began = Date.now();
    this.#agent = new AgentContainer(
      this.name,
      this.#container,
      (agent) => this.#finish(agent, logFile, began),
      this.#log,
    );
    for (const { stderr, chunk } of this.#early) this.#output(stderr, chunk);
    this.#early = [];
    this.#stream.end(`${JSON.stringify(input)}\n`);
    return this.#agent;
  }

  /** Removes a container that will not be used. */
  async discard(): Promise<void> {
    this.#taken = true;
    await this.#remove();
  }

  /** Removes the container, waiting out a short outage of the engine; logs what it could not remove. */
  async #remove(): Promise<void> {
    await this.#engine
      .retry('remove an agent container', () => this.#container.remove())
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404 && error.statusCode !== 409) {
          this.#log.error({ container: this.name, error }, 'could not remove the agent container');
        }
      });
  }

  #output(stderr: boolean, chunk: Buffer): void {
    const sink = this.#sink;
    if (sink === undefined) {
      if (this.#earlyBytes + chunk.length > EARLY_OUTPUT_LIMIT) return;
      this.#earlyBytes += chunk.length;
      this.#early.push({ stderr, chunk });
      return;
    }
    if (stderr) sink.stderr(chunk);
    else sink.stdout(chunk);
  }

  async #finish(agent: AgentContainer, logFile: NodeJS.WritableStream, began: number): Promise<RunEnd> {
    const exitCode = (await this.#exit).code;
    // The last frames may still be in flight when the wait returns.
    await Promise.race([this.#streamEnded, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    agent.disarmTimeout();
    this.#sink?.end();
    const durationMs = Date.now() - began;
    const end: RunEnd = {
      exitCode,
      durationMs,
      ...(agent.stopReason ? { stopReason: agent.stopReason } : {}),
    };
    logFile.end(
      `[host] ended: exit code ${exitCode ?? 'unknown'}${agent.stopReason ? `, killed (${agent.stopReason})` : ''}, ${durationMs} ms\n`,
    );
    await this.#remove();
    return end;
  }
}

export class AgentRunner {
  readonly #engine: Engine;
  readonly #log: Logger;
  readonly #wait: EngineWait;

  constructor(engine: Engine, log: Logger, wait = new EngineWait(log)) {
    this.#engine = engine;
    this.#log = log;
    this.#wait = wait;
  }

  /**
   * Creates, attaches and starts a container that waits for its input; rejects when it cannot start.
   * While the engine cannot be reached, the whole start is tried again (engine-wait.ts).
   */
  prepare(spec: ContainerSpec): Promise<PreparedAgent> {
    return this.#wait.retry('start an agent container', () => this.#prepareOnce(spec));
  }

  /** Prepares a container and begins its run at once. */
  async start(request: RunRequest): Promise<AgentContainer> {
    const prepared = await this.prepare(request);
    return prepared.begin(request.input, request.logPath, request.onOutput);
  }

  async #prepareOnce(spec: ContainerSpec): Promise<PreparedAgent> {
    const container = await this.#create(spec);
    try {
      const stream = await container.attach();
      await container.start();
      return new PreparedAgent(spec, container, stream, this.#log, this.#wait);
    } catch (error) {
      // With the engine gone this fails too; the next try's create finds the name taken and removes it.
      await container.remove().catch(() => undefined);
      throw error;
    }
  }

  async #create(spec: ContainerSpec): Promise<EngineContainer> {
    try {
      return await this.#engine.createContainer(spec.name, createBody(spec));
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) {
        throw new AgentImageMissingError(
          `the agent image ${spec.settings.image} is not on the Docker engine: build it (scripts/setup.sh) or set CONTAINER_IMAGE`,
        );
      }
      // A container of this run's name is one an earlier try made before the engine went away (the answer
      // was lost, or its attach or start was): it never ran for anyone, so it goes and is made again.
      if (status === 409) {
        const removed = await this.#engine
          .container(spec.name)
          .remove()
          .then(
            () => true,
            (removal: { statusCode?: number }) => {
              if (removal.statusCode === 404) return false;
              throw removal;
            },
          );
        if (removed) return this.#engine.createContainer(spec.name, createBody(spec));
      }
      throw error;
    }
  }
}

/**
 * The agent's only scratch space outside its mounts: Chromium's shared memory and profile, the CLI's
 * temp files. The same as a Boilerhouse-hosted NanoClaw's filtered socket forces (a read-only root and
 * this /tmp), so an agent runs inside the same walls hosted or not.
 */
const TMP_TMPFS = 'rw,nosuid,nodev,size=64m';

function createBody(spec: ContainerSpec): CreateBody {
  const { settings } = spec;
  return {
    Image: settings.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    User: '1000:1000',
    WorkingDir: '/workspace/group',
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: spec.labels,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    HostConfig: {
      Mounts: spec.mounts.map((mount) => ({
        Type: 'bind',
        Source: mount.source,
        Target: mount.target,
        ReadOnly: mount.readonly,
      })),
      Memory: settings.memoryBytes,
      // Equal to Memory: no swap, so that the memory cap is a real one.
      MemorySwap: settings.memoryBytes,
      NanoCpus: Math.round(settings.cpus * 1e9),
      PidsLimit: settings.pidsLimit,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': TMP_TMPFS },
      Init: true,
    },
  };
}

/** What the log file says about the run: never the environment (it holds keys) nor the prompt. */
function runHeader(spec: ContainerSpec, input: AgentInput, waitedMs: number): string {
  return [
    `[host] run ${spec.name} started ${new Date().toISOString()} (container up ${waitedMs} ms before its input)`,
    `[host] group ${input.group} (${input.isMain ? 'main' : 'not main'}), chat ${input.chatJid}, ${input.isScheduledTask ? 'scheduled task' : 'messages'}`,
    `[host] image ${spec.settings.image}, session ${input.sessionId ?? 'new'}, ${input.prompt === null ? 'armed (no prompt yet)' : `prompt ${input.prompt.length} characters`}`,
    ...spec.mounts.map(
      (mount) => `[host] mount ${mount.source} -> ${mount.target}${mount.readonly ? ' (ro)' : ''}`,
    ),
    '',
  ].join('\n');
}
