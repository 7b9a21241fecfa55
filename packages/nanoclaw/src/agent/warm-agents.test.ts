/** Containers started ahead of need, on the real engine (a plain Node image standing in for the agent). */
import { join } from 'node:path';
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Layout, prepareGroupDirs, prepareHome } from '../layout.ts';
import { createLogger, silentLogger } from '../log.ts';
import { until } from '../testing/e2e-host.ts';
import { tempHome } from '../testing/temp-home.ts';
import { dockerClient, LABELS, removeLeftovers } from './docker.ts';
import { groupMounts } from './mounts.ts';
import { AgentRunner, type ContainerSpec, fingerprint } from './runner.ts';
import { WarmAgents } from './warm-agents.ts';

const docker = dockerClient(undefined);
const hostId = `w${Math.random().toString(36).slice(2, 9)}`;
let home: Awaited<ReturnType<typeof tempHome>>;
let layout: Layout;
let counter = 0;

function spec(env: Record<string, string> = {}): ContainerSpec {
  const config = loadConfig({ NANOCLAW_HOME: home.path });
  return {
    name: `nanoclaw-${hostId}-main-${counter++}`,
    labels: { [LABELS.host]: hostId },
    mounts: groupMounts(layout, 'main', true, []),
    env: { HOME: '/home/node', ...env },
    settings: { ...config.container, image: 'boilerhouse/node:24' },
    command: [
      'node',
      '-e',
      "process.stdin.on('data', (d) => process.stdout.write('---NANOCLAW_OUTPUT_START---\\n' + JSON.stringify({ status: 'success', result: 'got ' + JSON.parse(d).prompt, newSessionId: null }) + '\\n---NANOCLAW_OUTPUT_END---\\n'))",
    ],
  };
}

const running = async () => (await docker.listContainers([`${LABELS.host}=${hostId}`], false)).length;
/** Waits (polling, not a fixed sleep: the engine is slow under load) until `count` of them run. */
const untilRunning = (count: number) =>
  until(async () => ((await running()) === count ? true : undefined), `${count} running container(s)`);

beforeAll(async () => {
  home = await tempHome();
  layout = new Layout(home.path);
  prepareHome(layout, 'Andy');
  prepareGroupDirs(layout, 'main');
});
afterAll(async () => {
  await removeLeftovers(docker, hostId);
  await home.remove();
});

describe('WarmAgents', () => {
  const runner = new AgentRunner(docker, silentLogger);
  let env: Record<string, string> = {};
  const warm = (max = 2, ttlMs = 60_000) => {
    const agents: WarmAgents = new WarmAgents({
      prepare: async () => runner.prepare(spec(env)),
      room: () => agents.size < max,
      ttlMs,
      log: silentLogger,
    });
    return agents;
  };

  it('hands over a waiting container made to the same spec, which then runs', async () => {
    env = {};
    const agents = warm();
    agents.refill('main');
    const taken = await agents.take('main', fingerprint(spec()));
    expect(taken?.usable).toBe(true);
    const outputs: ParsedOutput[] = [];
    const agent = taken?.begin(
      {
        prompt: 'hi',
        sessionId: null,
        group: 'main',
        chatJid: 'web:main',
        isMain: true,
        isScheduledTask: false,
        assistantName: 'Andy',
        modelToken: 'run-token-for-this-test',
      },
      join(layout.logsDir('main'), 'warm.log'),
      (output) => outputs.push(output),
    );
    await agent?.done;
    expect(outputs.map((output) => output.result)).toEqual(['got hi']);
    expect(await agents.take('main', fingerprint(spec()))).toBeUndefined();
    await agents.stop();
  });

  it('removes a waiting container that no longer fits, stays within its budget and gives room back', async () => {
    env = { ANTHROPIC_MODEL: 'old' };
    const agents = warm(1);
    agents.refill('main');
    await untilRunning(1);
    expect(await agents.take('main', fingerprint(spec({ ANTHROPIC_MODEL: 'new' })))).toBeUndefined();
    expect(await running()).toBe(0);
    agents.refill('main');
    agents.refill('family');
    expect(agents.size).toBe(1);
    await untilRunning(1);
    expect(await agents.dropOldest()).toBe(true);
    expect(await agents.dropOldest()).toBe(false);
    expect(await running()).toBe(0);
    await agents.stop();
  });

  it('removes a waiting container after its time', async () => {
    env = {};
    const agents = warm(2, 800);
    agents.refill('main');
    await until(() => (agents.size === 0 ? true : undefined), 'the waiting container dropped after its time');
    await untilRunning(0);
    expect(await agents.take('main', fingerprint(spec()))).toBeUndefined();
    await agents.stop();
  });

  it('stops starting containers ahead of need when they exit before their input', async () => {
    const lines: string[] = [];
    let prepared = 0;
    const agents = new WarmAgents({
      prepare: async () => {
        prepared++;
        // Standing in for an agent whose stdin closed early: it exits at once.
        return runner.prepare({ ...spec(), command: ['node', '-e', 'process.exit(1)'] });
      },
      room: () => true,
      ttlMs: 60_000,
      log: createLogger({ write: (line) => lines.push(line), format: 'json' }),
    });
    agents.refill('main');
    await until(() => (agents.size === 0 ? true : undefined), 'the first early exit noticed');
    agents.refill('main');
    await until(
      () => (lines.some((line) => line.includes('starting them on demand')) ? true : undefined),
      'the second early exit noticed',
    );
    agents.refill('main');
    expect(prepared).toBe(2);
    expect(lines.some((line) => line.includes('starting them on demand from now on'))).toBe(true);
    expect(await running()).toBe(0);
  });
});
