/**
 * Issue 15: the Docker socket gone for a few seconds (Boilerhouse restarting its filtered socket) costs
 * no run and does not turn off containers started ahead of need. The runner talks to the real engine
 * through a relay on a unix socket of the test's own, which the test takes away (the path missing:
 * ENOENT; then a socket file nobody listens on: ECONNREFUSED; every connection through it cut) and
 * brings back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Layout, prepareGroupDirs, prepareHome } from '../layout.ts';
import { createLogger, type Logger } from '../log.ts';
import { tempHome } from '../testing/temp-home.ts';
import { dockerClient, LABELS, removeLeftovers } from './docker.ts';
import { EngineWait } from './engine-wait.ts';
import { groupMounts } from './mounts.ts';
import { AgentRunner, type ContainerSpec, fingerprint } from './runner.ts';
import { WarmAgents } from './warm-agents.ts';

const engineSocket = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice('unix://'.length)
  : '/var/run/docker.sock';
const hostId = `o${Math.random().toString(36).slice(2, 9)}`;
let home: Awaited<ReturnType<typeof tempHome>>;
let layout: Layout;
let counter = 0;

/** A unix socket that carries each connection to the engine, until it is taken down. */
class Relay {
  readonly path: string;
  #server: Server | undefined;
  readonly #connections = new Set<Socket>();

  constructor(path: string) {
    this.path = path;
  }

  async up(): Promise<void> {
    if (this.#server !== undefined) return;
    // Half-open both ways: the runner ends its side after the input, and the output still comes back.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const engine = createConnection({ path: engineSocket, allowHalfOpen: true });
      for (const socket of [client, engine]) {
        this.#connections.add(socket);
        socket.on('close', () => this.#connections.delete(socket));
        socket.on('error', () => {
          client.destroy();
          engine.destroy();
        });
      }
      client.pipe(engine).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
    this.#server = server;
  }

  /** Gone, as a restarting daemon's socket: the path removed and every connection cut. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#connections) socket.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

/** A socket file at `path` that nobody listens on (its listener killed): connections are refused. */
function deadSocket(path: string): void {
  try {
    execFileSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
  } catch {
    // Killed, as meant; the socket file stays.
  }
  expect(existsSync(path)).toBe(true);
}

function spec(): ContainerSpec {
  const config = loadConfig({ NANOCLAW_HOME: home.path });
  return {
    name: `nanoclaw-${hostId}-main-${counter++}`,
    labels: { [LABELS.host]: hostId, [LABELS.group]: 'main' },
    mounts: groupMounts(layout, 'main', true, []),
    env: { HOME: '/home/node' },
    settings: { ...config.container, image: 'boilerhouse/node:24' },
    command: [
      'node',
      '-e',
      "process.stdin.on('data', (d) => process.stdout.write('---NANOCLAW_OUTPUT_START---\\n' + JSON.stringify({ status: 'success', result: 'got ' + JSON.parse(d).prompt, newSessionId: null }) + '\\n---NANOCLAW_OUTPUT_END---\\n'))",
    ],
  };
}

const input = (prompt: string) => ({
  prompt,
  sessionId: null,
  group: 'main',
  chatJid: 'web:main',
  isMain: true,
  isScheduledTask: false,
  assistantName: 'Andy',
  modelToken: 'run-token-for-this-test',
});

function recordingLog(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600 && !(await condition()); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await condition()).toBe(true);
}

let relay: Relay;

beforeAll(async () => {
  home = await tempHome();
  layout = new Layout(home.path);
  prepareHome(layout, 'Andy');
  prepareGroupDirs(layout, 'main');
  relay = new Relay(join(home.path, 'docker.sock'));
});
afterAll(async () => {
  await relay.down();
  await removeLeftovers(dockerClient(undefined), hostId);
  await home.remove();
});

describe('the Docker socket gone for a few seconds (issue 15)', () => {
  it('a run started while the socket is missing, then refusing, waits for it and succeeds', async () => {
    const { log, lines } = recordingLog();
    const runner = new AgentRunner(dockerClient(`unix://${relay.path}`), log, new EngineWait(log));
    const tried = (code: string) =>
      lines.some((line) => line.message?.toString().includes('trying again') && line.code === code);
    const outputs: ParsedOutput[] = [];
    const started = runner.start({
      ...spec(),
      input: input('hello'),
      logPath: join(layout.logsDir('main'), 'outage.log'),
      onOutput: (output) => outputs.push(output),
    });
    await until(() => tried('ENOENT'));
    deadSocket(relay.path);
    await until(() => tried('ECONNREFUSED'));
    rmSync(relay.path);
    await relay.up();
    const agent = await started;
    expect((await agent.done).exitCode).toBe(0);
    expect(outputs).toEqual([{ status: 'success', result: 'got hello', newSessionId: null }]);
    expect(
      lines.filter((line) => line.message === 'the Docker engine cannot be reached; waiting for it'),
    ).toHaveLength(1);
    expect(lines.some((line) => line.message === 'the Docker engine answers again')).toBe(true);
  });

  it('containers waiting ahead of need that lose their connection are replaced, and stay on after two outages', async () => {
    await relay.up();
    const { log, lines } = recordingLog();
    const runner = new AgentRunner(dockerClient(`unix://${relay.path}`), log, new EngineWait(log));
    const warm: WarmAgents = new WarmAgents({
      prepare: async () => runner.prepare(spec()),
      room: () => warm.size < 1,
      ttlMs: 60_000,
      log,
    });
    const lost = () =>
      lines.filter((line) => String(line.message).includes('lost its connection to the engine')).length;
    const engine = dockerClient(undefined);
    /** The ids of this test's containers running now, asked of the engine directly. */
    const runningIds = () => engine.listContainers([`${LABELS.host}=${hostId}`], false);
    const waited: string[] = [];
    try {
      warm.refill('main');
      for (let outage = 1; outage <= 2; outage++) {
        await until(async () => (await runningIds()).length === 1);
        const [waiting] = await runningIds();
        waited.push(waiting as string);
        // The socket goes away, cutting the waiting container's connections: it exits (stdin closed).
        await relay.down();
        await until(async () => !(await runningIds()).includes(waiting as string));
        await relay.up();
        await until(() => lost() === outage);
      }
      await until(async () => (await runningIds()).some((id) => !waited.includes(id)));
      const prepared = await warm.take('main', fingerprint(spec()));
      expect(prepared?.usable).toBe(true);
      const outputs: ParsedOutput[] = [];
      const agent = prepared?.begin(input('after'), join(layout.logsDir('main'), 'warm.log'), (output) =>
        outputs.push(output),
      );
      expect((await agent?.done)?.exitCode).toBe(0);
      expect(outputs).toEqual([{ status: 'success', result: 'got after', newSessionId: null }]);
      expect(lines.some((line) => String(line.message).includes('starting them on demand'))).toBe(false);
      expect(new Set(waited).size).toBe(2);
    } finally {
      await warm.stop();
    }
  });
});
