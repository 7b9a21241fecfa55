/**
 * The runner against the real Docker engine, with a scripted agent (a small Node script in the group
 * folder, run in the project's Node image): stdin input, framed output as it happens, log file, non-root
 * user, mounts, limits, the hard timeout and the output limit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Layout, prepareGroupDirs, prepareHome } from '../layout.ts';
import { silentLogger } from '../log.ts';
import { tempHome } from '../testing/temp-home.ts';
import { dockerClient, LABELS, removeLeftovers } from './docker.ts';
import { groupMounts } from './mounts.ts';
import { AgentImageMissingError, AgentRunner, type RunRequest } from './runner.ts';

const docker = dockerClient(undefined);
const hostId = `t${Math.random().toString(36).slice(2, 9)}`;
let home: Awaited<ReturnType<typeof tempHome>>;
let layout: Layout;

/** A stand-in agent: reads stdin, then does what the prompt says. */
const SCRIPT = `
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const input = JSON.parse(Buffer.concat(chunks).toString());
  const frame = (o) => process.stdout.write('---NANOCLAW_OUTPUT_START---\\n' + JSON.stringify(o) + '\\n---NANOCLAW_OUTPUT_END---\\n');
  const fs = require('node:fs');
  console.error('agent log line for ' + input.group);
  if (input.prompt === 'whoami') {
    let globalWritable = true;
    try { fs.writeFileSync('/workspace/global/CLAUDE.md', 'x'); } catch { globalWritable = false; }
    fs.writeFileSync('/workspace/group/note.md', 'written by the agent');
    frame({ status: 'success', result: JSON.stringify({ uid: process.getuid(), cwd: process.cwd(), home: process.env.HOME,
      env: Object.keys(process.env).filter((k) => k.startsWith('ANTHROPIC') || k === 'SECRET_THING'), globalWritable,
      ipc: fs.existsSync('/workspace/ipc/input'), claude: fs.existsSync('/home/node/.claude') }), newSessionId: 's-1' });
  } else if (input.prompt === 'two') {
    frame({ status: 'success', result: 'first', newSessionId: 's-1' });
    await new Promise((r) => setTimeout(r, 300));
    frame({ status: 'success', result: 'second', newSessionId: 's-1' });
  } else if (input.prompt === 'hang') {
    frame({ status: 'success', result: 'before hanging', newSessionId: null });
    setInterval(() => {}, 1000);
  } else if (input.prompt === 'slow') {
    setTimeout(() => frame({ status: 'success', result: 'slow but there', newSessionId: null }), 2500);
  } else if (input.prompt === 'flood') {
    const line = 'x'.repeat(1000) + '\\n';
    const write = () => { while (process.stdout.write(line)) {} process.stdout.once('drain', write); };
    write();
  }
});
`;

function request(prompt: string, outputs: ParsedOutput[], overrides: Partial<RunRequest> = {}): RunRequest {
  const config = loadConfig({ NANOCLAW_HOME: home.path, ANTHROPIC_API_KEY: 'sk-test-not-real' });
  return {
    name: `nanoclaw-${hostId}-main-${Math.random().toString(36).slice(2, 8)}`,
    labels: { [LABELS.host]: hostId, [LABELS.group]: 'main' },
    input: {
      prompt,
      sessionId: null,
      group: 'other',
      chatJid: 'web:other',
      isMain: false,
      isScheduledTask: false,
      assistantName: 'Andy',
      modelToken: 'run-token-for-this-test',
    },
    mounts: groupMounts(layout, 'other', false, []),
    env: { HOME: '/home/node', ANTHROPIC_API_KEY: 'sk-test-not-real' },
    settings: { ...config.container, image: 'boilerhouse/node:24' },
    logPath: join(layout.logsDir('other'), `run-${prompt}.log`),
    command: ['node', '/workspace/group/agent.cjs'],
    onOutput: (output) => outputs.push(output),
    ...overrides,
  };
}

beforeAll(async () => {
  home = await tempHome();
  layout = new Layout(home.path);
  prepareHome(layout, 'Andy');
  prepareGroupDirs(layout, 'other');
  writeFileSync(join(layout.groupDir('other'), 'agent.cjs'), SCRIPT);
});

afterAll(async () => {
  await removeLeftovers(docker, hostId);
  await home.remove();
});

describe('AgentRunner', () => {
  const runner = () => new AgentRunner(docker, silentLogger);

  it('runs as uid 1000 in the group folder with only the given environment, read-only global memory', async () => {
    const outputs: ParsedOutput[] = [];
    const agent = await runner().start(request('whoami', outputs));
    const end = await agent.done;
    expect(end.exitCode).toBe(0);
    expect(outputs).toHaveLength(1);
    const seen = JSON.parse(outputs[0]?.result ?? '{}');
    expect(seen).toEqual({
      uid: 1000,
      cwd: '/workspace/group',
      home: '/home/node',
      env: ['ANTHROPIC_API_KEY'],
      globalWritable: false,
      ipc: true,
      claude: true,
    });
    expect(readFileSync(join(layout.groupDir('other'), 'note.md'), 'utf8')).toBe('written by the agent');
    const log = readFileSync(join(layout.logsDir('other'), 'run-whoami.log'), 'utf8');
    expect(log).toContain('agent log line for other');
    expect(log).toContain('exit code 0');
    expect(log).not.toContain('sk-test-not-real');
    // Removed once done.
    await expect(docker.container(agent.name).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('hands over each result as its frame completes', async () => {
    const outputs: ParsedOutput[] = [];
    const times: number[] = [];
    const agent = await runner().start(
      request('two', outputs, {
        onOutput: (output) => {
          outputs.push(output);
          times.push(Date.now());
        },
      }),
    );
    await agent.done;
    expect(outputs.map((output) => output.result)).toEqual(['first', 'second']);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(200);
  });

  it('waits for the container to exit, however long the agent takes (a wait sent before the start returned at once)', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map(async (index) => {
        const outputs: ParsedOutput[] = [];
        const agent = await runner().start(
          request('slow', outputs, { logPath: join(layout.logsDir('other'), `slow-${index}.log`) }),
        );
        const end = await agent.done;
        return { end, outputs };
      }),
    );
    for (const { end, outputs } of runs) {
      expect(end.durationMs).toBeGreaterThan(2500);
      expect(outputs.map((output) => output.result)).toEqual(['slow but there']);
    }
  });

  it('kills a run past its timeout and says so', async () => {
    const outputs: ParsedOutput[] = [];
    const agent = await runner().start(request('hang', outputs));
    agent.armTimeout(1500);
    const end = await agent.done;
    expect(end.stopReason).toBe('timeout');
    expect(outputs.map((output) => output.result)).toEqual(['before hanging']);
  });

  it('kills a run whose output passes the limit, and keeps the log file within it', async () => {
    const outputs: ParsedOutput[] = [];
    const base = request('flood', outputs);
    const agent = await runner().start({ ...base, settings: { ...base.settings, maxOutputBytes: 200_000 } });
    const end = await agent.done;
    expect(end.stopReason).toBe('output_limit');
    const log = readFileSync(base.logPath, 'utf8');
    expect(log).toContain('output passed 200000 bytes');
    expect(log.length).toBeLessThan(300_000);
  });

  it('starts a container ahead of its input, which then runs as if just started', async () => {
    const outputs: ParsedOutput[] = [];
    const base = request('whoami', outputs, { logPath: join(layout.logsDir('other'), 'prepared.log') });
    const prepared = await runner().prepare(base);
    expect(prepared.usable).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const agent = prepared.begin(base.input, base.logPath, base.onOutput);
    expect(prepared.usable).toBe(false);
    expect(() => prepared.begin(base.input, base.logPath, base.onOutput)).toThrow(
      'has already been given its input',
    );
    expect((await agent.done).exitCode).toBe(0);
    expect(JSON.parse(outputs[0]?.result ?? '{}').uid).toBe(1000);
    expect(readFileSync(base.logPath, 'utf8')).toMatch(/container up \d+ ms before its input/);
  });

  it('names the missing image', async () => {
    const base = request('whoami', []);
    await expect(
      runner().start({ ...base, settings: { ...base.settings, image: 'nanoclaw-no-such-image:never' } }),
    ).rejects.toThrow(AgentImageMissingError);
  });
});
