/**
 * The agent container's own overhead, model time excluded (the scripted model answers at once): a new
 * container from `docker run` to its first framed reply, split at the model request; a follow-up from its
 * file in input/ to its frame; and `_close` to the container's exit. The baseline, measured in the same
 * run, is the same image started the same way with `true` as its entrypoint: the engine's floor.
 *
 *   node bench/nanoclaw-agent.ts [--samples 30] [--follow-ups 3] [--json]
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import {
  AGENT_IMAGE,
  assertAgentImageCurrent,
  makeAgentDirs,
  removeAgentContainers,
  removeAgentDirs,
  startAgentContainer,
} from '../packages/nanoclaw-agent/src/testing/agent-container.ts';
import { startTestModelProxy } from '../packages/nanoclaw-agent/src/testing/model-proxy.ts';
import { startModelServer } from '../packages/nanoclaw-agent/src/testing/model-server.ts';
import { userPrompts } from '../packages/nanoclaw-agent/src/testing/requests.ts';
import { distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    samples: { type: 'string', default: '30' },
    'follow-ups': { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const samples = Number(flags.samples);
const followUps = Number(flags['follow-ups']);
const exec = promisify(execFile);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

await assertAgentImageCurrent();
let lastRequestAt = 0;
const server = await startModelServer(
  (request) => {
    lastRequestAt = performance.now();
    return [{ type: 'text', text: `turn ${userPrompts(request).length}` }];
  },
  { host: '127.0.0.1' },
);
// The agent reaches the model as under NanoClaw: through the host's proxy, with a token per run.
const proxy = startTestModelProxy(server.url);
const env = {};
const input = {
  prompt: 'hello',
  sessionId: null,
  group: 'main',
  chatJid: 'web:main',
  isMain: true,
  isScheduledTask: false,
  assistantName: 'Andy',
};

const timings = {
  baseline: [] as number[],
  startToRequest: [] as number[],
  replyToFrame: [] as number[],
  newContainer: [] as number[],
  followUp: [] as number[],
  closeToExit: [] as number[],
};

/** The engine's floor: the same image, mounts and user, with nothing to run. */
async function baselineRun(): Promise<number> {
  const dirs = await makeAgentDirs('main');
  const started = performance.now();
  await exec('docker', [
    'run',
    '-i',
    '--rm',
    '--user',
    '1000:1000',
    '--volume',
    `${dirs.group}:/workspace/group`,
    '--volume',
    `${dirs.global}:/workspace/global:ro`,
    '--volume',
    `${dirs.sessions}:/home/node/.claude`,
    '--volume',
    `${dirs.ipc}:/workspace/ipc`,
    '--entrypoint',
    'true',
    AGENT_IMAGE,
  ]);
  const took = performance.now() - started;
  await removeAgentDirs(dirs);
  return took;
}

async function agentRun(): Promise<void> {
  const dirs = await makeAgentDirs('main');
  await proxy.serve(dirs);
  const started = performance.now();
  const run = startAgentContainer({ input: { ...input, modelToken: proxy.token(dirs) }, dirs, env });
  await run.waitForFrames(1);
  const framed = performance.now();
  timings.startToRequest.push(lastRequestAt - started);
  timings.replyToFrame.push(framed - lastRequestAt);
  timings.newContainer.push(framed - started);
  for (let index = 0; index < followUps; index++) {
    const written = performance.now();
    await run.writeFollowUp(`follow-up ${index}`);
    await run.waitForFrames(index + 2);
    timings.followUp.push(performance.now() - written);
  }
  const closing = performance.now();
  await run.close();
  const code = await run.exited;
  if (code !== 0) throw new Error(`agent exited ${code}: ${run.stderr}`);
  timings.closeToExit.push(performance.now() - closing);
  await removeAgentDirs(dirs);
}

try {
  say(`${samples} runs of ${AGENT_IMAGE}, ${followUps} follow-ups each, alternating with the baseline`);
  for (let sample = 0; sample < samples; sample++) {
    timings.baseline.push(await baselineRun());
    await agentRun();
  }
} finally {
  await removeAgentContainers();
  await proxy.close();
  await server.close();
}

const rows = {
  'docker run true (baseline)': distribution(timings.baseline),
  'new container: run to frame': distribution(timings.newContainer),
  '  start to model request': distribution(timings.startToRequest),
  '  model reply to frame': distribution(timings.replyToFrame),
  'follow-up: file to frame': distribution(timings.followUp),
  '_close to exit': distribution(timings.closeToExit),
};
if (flags.json) process.stdout.write(`${JSON.stringify({ samples, followUps, rows }, null, 2)}\n`);
else {
  process.stdout.write(`${formatTable(rows, rows['docker run true (baseline)'].p50)}\n`);
  process.stdout.write(
    `load average at the end: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}\n`,
  );
}
