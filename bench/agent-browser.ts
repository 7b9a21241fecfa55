/**
 * What the browser costs an agent run: the agent image with Chromium (nanoclaw-agent:latest) against the
 * same image built without it (BROWSER=none, made here from the latest image's own /app, so the code is
 * the same), in one run, samples alternating, each container under the caps a hosted NanoClaw's agents
 * get. Rows: the engine's floor (`docker run true`), a new agent container from `docker run` to its first
 * model request (the browser's MCP server starts with the session) and to its framed reply; and, with
 * Chromium, a first page: from the model's browser_navigate to its result (Chromium's launch included).
 * Image sizes are printed too.
 *
 *   node bench/agent-browser.ts [--samples 10] [--json]
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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
import {
  dockerBridgeGateway,
  type ScriptedReply,
  startModelServer,
} from '../packages/nanoclaw-agent/src/testing/model-server.ts';
import { toolResults, userPrompts } from '../packages/nanoclaw-agent/src/testing/requests.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { samples: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
});
const samples = Number(flags.samples);
const exec = promisify(execFile);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};
const NO_BROWSER_IMAGE = 'nanoclaw-agent:bench-no-browser';
const FROM_LABEL = 'nanoclaw.bench.from';

async function imageField(image: string, format: string): Promise<string> {
  return (await exec('docker', ['image', 'inspect', '--format', format, image])).stdout.trim();
}

/** The latest image without Chromium: its /app as it is, the Dockerfile with BROWSER=none. Kept while the latest is. */
async function buildNoBrowserImage(): Promise<void> {
  const latest = await imageField(AGENT_IMAGE, '{{.Id}}');
  const built = await imageField(NO_BROWSER_IMAGE, `{{index .Config.Labels "${FROM_LABEL}"}}`).catch(
    () => '',
  );
  if (built === latest) return;
  say(`building ${NO_BROWSER_IMAGE} from ${AGENT_IMAGE}'s /app`);
  const context = await mkdtemp(join(tmpdir(), 'agent-no-browser-'));
  const container = (await exec('docker', ['create', AGENT_IMAGE])).stdout.trim();
  try {
    await exec('docker', ['cp', `${container}:/app`, join(context, 'app')]);
    await cp(new URL('../images/nanoclaw-agent/Dockerfile', import.meta.url), join(context, 'Dockerfile'));
    await exec(
      'docker',
      [
        'build',
        '--quiet',
        '--build-arg',
        'BROWSER=none',
        '--label',
        `${FROM_LABEL}=${latest}`,
        '-t',
        NO_BROWSER_IMAGE,
        context,
      ],
      { env: { ...process.env, DOCKER_BUILDKIT: '0' }, maxBuffer: 16 * 1024 * 1024 },
    );
  } finally {
    await exec('docker', ['rm', container]);
    await rm(context, { recursive: true, force: true });
  }
}

await assertAgentImageCurrent();
await buildNoBrowserImage();

// A page on Docker's bridge, where the agent container reaches this machine.
const bridge = await dockerBridgeGateway();
const page = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end('<!doctype html><title>Bench</title><h1>A page</h1><p>Some text to read.</p>');
});
await new Promise<void>((resolve) => page.listen(0, bridge, resolve));
const pageUrl = `http://${bridge}:${(page.address() as AddressInfo).port}/`;

let firstRequestAt = 0;
let navigateSentAt = 0;
let navigateAnsweredAt = 0;
const server = await startModelServer(
  (request): ScriptedReply => {
    const now = performance.now();
    firstRequestAt ||= now;
    const browse = (userPrompts(request).at(-1) ?? '').includes('browse');
    if (browse && toolResults(request).length === 0) {
      navigateSentAt = now;
      return [{ type: 'tool_use', name: 'mcp__browser__browser_navigate', input: { url: pageUrl } }];
    }
    if (browse) navigateAnsweredAt = now;
    return [{ type: 'text', text: 'ok' }];
  },
  { host: '127.0.0.1' },
);
const proxy = startTestModelProxy(server.url);

const rows: Record<string, number[]> = {};
const record = (name: string, value: number) => {
  rows[name] ??= [];
  rows[name].push(value);
};

/** The engine's floor for `image`: the same user and caps, nothing to run. */
async function floor(image: string): Promise<number> {
  const started = performance.now();
  await exec('docker', [
    'run',
    '--rm',
    '--user',
    '1000:1000',
    '--read-only',
    '--memory',
    '1024m',
    '--entrypoint',
    'true',
    image,
  ]);
  return performance.now() - started;
}

async function agentRun(image: string, label: string, prompt: string): Promise<void> {
  const dirs = await makeAgentDirs('main');
  await proxy.serve(dirs);
  firstRequestAt = 0;
  const started = performance.now();
  const run = startAgentContainer({
    input: {
      prompt,
      sessionId: null,
      group: 'main',
      chatJid: 'web:main',
      isMain: true,
      isScheduledTask: false,
      assistantName: 'Andy',
      modelToken: proxy.token(dirs),
    },
    dirs,
    env: {},
    image,
    hostedLimits: true,
  });
  await run.waitForFrames(1, 120_000);
  const framed = performance.now();
  await run.close();
  const code = await run.exited;
  if (code !== 0) throw new Error(`${image} exited ${code}: ${run.stderr}`);
  if (prompt === 'browse')
    record('first page: browser_navigate to its result', navigateAnsweredAt - navigateSentAt);
  else {
    record(`${label}: run to first model request`, firstRequestAt - started);
    record(`${label}: run to frame`, framed - started);
  }
  await removeAgentDirs(dirs);
}

const sizes = {
  withChromium: Number(await imageField(AGENT_IMAGE, '{{.Size}}')),
  withoutChromium: Number(await imageField(NO_BROWSER_IMAGE, '{{.Size}}')),
};
const variants = [
  { image: NO_BROWSER_IMAGE, label: 'without Chromium' },
  { image: AGENT_IMAGE, label: 'with Chromium' },
];
try {
  say(`${samples} samples of each, alternating; pages at ${pageUrl}`);
  for (let sample = 0; sample < samples; sample++) {
    for (const { image, label } of variants) {
      record(`${label}: docker run true`, await floor(image));
      await agentRun(image, label, 'hello');
    }
    await agentRun(AGENT_IMAGE, 'with Chromium', 'browse');
  }
} finally {
  await removeAgentContainers();
  await proxy.close();
  await server.close();
  page.close();
}

const table: Record<string, Distribution> = Object.fromEntries(
  Object.entries(rows).map(([name, values]) => [name, distribution(values)]),
);
if (flags.json) process.stdout.write(`${JSON.stringify({ samples, sizes, rows: table }, null, 2)}\n`);
else {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  process.stdout.write(
    `image size: without Chromium ${mb(sizes.withoutChromium)}, with ${mb(sizes.withChromium)}\n`,
  );
  process.stdout.write(
    `${formatTable(table, table['without Chromium: run to first model request']?.p50 ?? Number.NaN)}\n`,
  );
  process.stdout.write(
    `load average at the end: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}\n`,
  );
}
