/**
 * What NanoClaw's model proxy costs an agent: each model request through the proxy (run token checked,
 * credential swapped, usage metered as the answer passes, on its unix socket) next to the same request to
 * the scripted model server directly, in the same run, samples alternating which goes first. Two kinds:
 * a whole non-streamed answer (time to the last byte) and a streamed one (time to its first text delta,
 * the first token the agent sees), both with keep-alive clients so only the path differs.
 *
 *   npm run bench:nanoclaw-model-proxy -- [--samples 500] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ModelProxy } from '../packages/nanoclaw/src/agent/model-proxy.ts';
import { silentLogger } from '../packages/nanoclaw/src/log.ts';
import { startModelServer } from '../packages/nanoclaw-agent/src/testing/model-server.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { samples: { type: 'string', default: '500' }, json: { type: 'boolean', default: false } },
});
const samples = Number(flags.samples);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};

const model = await startModelServer(
  () => [{ type: 'text', text: 'a reply of a few words, as a model gives' }],
  {
    host: '127.0.0.1',
  },
);
const dir = await mkdtemp(join(tmpdir(), 'bench-model-proxy-'));
const socketPath = join(dir, 'model.sock');
let counted = 0;
const proxy = new ModelProxy({
  credential: { apiKey: 'sk-ant-bench', authToken: undefined },
  endpoint: model.url,
  log: silentLogger,
  recordUsage: () => {
    counted++;
  },
});
await proxy.serveGroup('main', socketPath);
const token = proxy.issueToken('main');
const modelUrl = new URL(model.url);

type Path = 'direct' | 'proxy';
const agents: Record<Path, Agent> = {
  direct: new Agent({ keepAlive: true }),
  proxy: new Agent({ keepAlive: true }),
};

/** ms until the answer ends (whole) or until its first text delta (streamed). */
function timed(path: Path, stream: boolean): Promise<number> {
  const body = JSON.stringify({
    model: 'claude-bench',
    max_tokens: 64,
    stream,
    messages: [{ role: 'user', content: 'hello, how are you today?' }],
  });
  const target =
    path === 'direct' ? { host: modelUrl.hostname, port: Number(modelUrl.port) } : { socketPath };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstToken: number | undefined;
    const outgoing = request(
      {
        ...target,
        agent: agents[path],
        path: '/v1/messages',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': token.value },
      },
      (response) => {
        response.on('data', (chunk: Buffer) => {
          if (stream && firstToken === undefined && chunk.includes('text_delta'))
            firstToken = performance.now();
        });
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`${path}: status ${response.statusCode}`));
          else resolve((stream ? (firstToken ?? Number.NaN) : performance.now()) - started);
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const results: Record<string, number[]> = {
  'whole answer, direct': [],
  'whole answer, proxy': [],
  'first token, direct': [],
  'first token, proxy': [],
};
try {
  // Warm both paths (connections, JIT) before measuring.
  for (let index = 0; index < 50; index++) {
    await timed('direct', false);
    await timed('proxy', false);
  }
  say(`${samples} samples of each, alternating order`);
  for (let index = 0; index < samples; index++) {
    const order: Path[] = index % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct'];
    for (const path of order) results[`whole answer, ${path}`]?.push(await timed(path, false));
    for (const path of order) results[`first token, ${path}`]?.push(await timed(path, true));
  }
} finally {
  token.revoke();
  await proxy.close();
  await model.close();
  for (const agent of Object.values(agents)) agent.destroy();
  await rm(dir, { recursive: true, force: true });
}

const rows: Record<string, Distribution> = Object.fromEntries(
  Object.entries(results).map(([name, values]) => [name, distribution(values)]),
);
const overhead = (kind: string, q: 'p50' | 'p99') =>
  (rows[`${kind}, proxy`]?.[q] ?? Number.NaN) - (rows[`${kind}, direct`]?.[q] ?? Number.NaN);
const summary = {
  samples,
  requests_metered: counted,
  overhead_ms: {
    whole_answer: { p50: overhead('whole answer', 'p50'), p99: overhead('whole answer', 'p99') },
    first_token: { p50: overhead('first token', 'p50'), p99: overhead('first token', 'p99') },
  },
  rows,
};
if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
else {
  process.stdout.write(`${formatTable(rows, rows['whole answer, direct']?.p50 ?? Number.NaN)}\n`);
  process.stdout.write(
    `proxy overhead: whole answer p50 +${summary.overhead_ms.whole_answer.p50.toFixed(2)} ms, p99 +${summary.overhead_ms.whole_answer.p99.toFixed(2)} ms; first token p50 +${summary.overhead_ms.first_token.p50.toFixed(2)} ms, p99 +${summary.overhead_ms.first_token.p99.toFixed(2)} ms (${counted} requests metered)\n`,
  );
}
