/**
 * What the filtered Docker socket costs: a trivial container created, started, waited for and removed
 * through an instance's socket, next to the same container through the engine's own socket in the same
 * run (same HTTP client, same locked-down config, samples alternating which goes first). Also the same
 * with a bind of a sub-directory of the instance's state (pinned by the proxy), and GET /_ping alone.
 *
 *   npm run bench:proxy -- [--samples 100] [--json]
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHILD_IMAGE, startTestProxy } from '../packages/boilerhouse/src/proxy/testing.ts';
import { type Distribution, distribution, formatTable } from './stats.ts';

const { values: flags } = parseArgs({
  options: { samples: { type: 'string', default: '100' }, json: { type: 'boolean', default: false } },
});
const samples = Number(flags.samples);
const say = (text: string) => {
  if (!flags.json) process.stderr.write(`${text}\n`);
};
const ENGINE_SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
const MIB = 1024 * 1024;
const BENCH_LABEL = 'boilerhouse.bench';
const run = `docker-proxy-${randomBytes(4).toString('hex')}`;

/** A keep-alive HTTP client on a unix socket: the same for both paths, so only the socket differs. */
class Client {
  readonly #socketPath: string;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.#socketPath,
          agent: this.#agent,
          method,
          path: `/v1.41${path}`,
          headers: payload
            ? { 'content-type': 'application/json', 'content-length': payload.length }
            : { 'content-length': 0 },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 400) reject(new Error(`${method} ${path} -> ${status}: ${text}`));
            else
              resolve({
                status,
                json: /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : text,
              });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

const proxy = await startTestProxy({ maxContainers: 5, limits: { cpus: 0.5, memory: 64 * MIB, pids: 64 } });
const direct = new Client(ENGINE_SOCKET);
const viaProxy = new Client(proxy.socketPath);

/** The container the proxy makes of `{Image, Cmd}`, written out in full for the engine's own socket. */
function lockedDown(binds: { Type: string; Source: string; Target: string; ReadOnly: boolean }[]) {
  return {
    Image: CHILD_IMAGE,
    Cmd: ['true'],
    Labels: { [BENCH_LABEL]: run },
    HostConfig: {
      Memory: 64 * MIB,
      MemorySwap: 64 * MIB,
      NanoCpus: 500_000_000,
      PidsLimit: 64,
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['NET_RAW'],
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Mounts: binds,
    },
  };
}

type Step = 'create' | 'start' | 'wait' | 'remove' | 'total';
type Timings = Record<Step, number[]>;
const timings = (): Timings => ({ create: [], start: [], wait: [], remove: [], total: [] });

/** create, start, wait, remove: each call timed, and the whole. */
async function lifecycle(client: Client, body: unknown, into: Timings): Promise<void> {
  const began = performance.now();
  let at = began;
  const lap = (step: Step) => {
    const now = performance.now();
    into[step].push(now - at);
    at = now;
  };
  const created = (await client.call('POST', '/containers/create', body)).json as { Id: string };
  lap('create');
  await client.call('POST', `/containers/${created.Id}/start`);
  lap('start');
  const waited = (await client.call('POST', `/containers/${created.Id}/wait`)).json as { StatusCode: number };
  if (waited.StatusCode !== 0) throw new Error(`the container exited with ${waited.StatusCode}`);
  lap('wait');
  await client.call('DELETE', `/containers/${created.Id}?force=1`);
  lap('remove');
  into.total.push(performance.now() - began);
}

const bindHost = join(proxy.stateDir, 'groups', 'main');
const variants = {
  plain: { direct: lockedDown([]), proxy: { Image: CHILD_IMAGE, Cmd: ['true'] } },
  bind: {
    direct: lockedDown([{ Type: 'bind', Source: bindHost, Target: '/w', ReadOnly: false }]),
    proxy: { Image: CHILD_IMAGE, Cmd: ['true'], HostConfig: { Binds: ['/data/groups/main:/w'] } },
  },
} as const;
const results = {
  plain: { direct: timings(), proxy: timings() },
  bind: { direct: timings(), proxy: timings() },
};
const pings = { direct: [] as number[], proxy: [] as number[] };

async function ping(client: Client, into: number[]): Promise<void> {
  const began = performance.now();
  await client.call('GET', '/_ping');
  into.push(performance.now() - began);
}

let cleaning: Promise<void> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: cleaning up`);
    cleanUp().finally(() => process.exit(130));
  });
}

try {
  say(`warming up, then ${samples} samples of each (create + start + wait + remove), alternating`);
  for (let index = 0; index < 5; index++) {
    for (const variant of ['plain', 'bind'] as const) {
      await lifecycle(direct, variants[variant].direct, timings());
      await lifecycle(viaProxy, variants[variant].proxy, timings());
    }
  }
  for (let index = 0; index < samples; index++) {
    for (const variant of ['plain', 'bind'] as const) {
      const order = index % 2 === 0 ? (['direct', 'proxy'] as const) : (['proxy', 'direct'] as const);
      for (const path of order) {
        await lifecycle(
          path === 'direct' ? direct : viaProxy,
          variants[variant][path],
          results[variant][path],
        );
      }
    }
    if ((index + 1) % 20 === 0) say(`  ${index + 1}/${samples}`);
  }
  for (let index = 0; index < samples * 5; index++) {
    await ping(direct, pings.direct);
    await ping(viaProxy, pings.proxy);
  }

  const rows: Record<string, Distribution> = {};
  const add = (name: string, values: number[]) => {
    rows[name] = distribution(values);
  };
  const steps: Step[] = ['total', 'create', 'start', 'wait', 'remove'];
  for (const variant of ['plain', 'bind'] as const) {
    for (const step of steps) {
      const label = step === 'total' ? 'create+start+wait+remove' : `  ${step}`;
      const suffix = variant === 'bind' ? ', bind of a sub-directory' : '';
      add(`engine socket: ${label}${suffix}`, results[variant].direct[step]);
      add(`filtered socket: ${label}${suffix}`, results[variant].proxy[step]);
    }
  }
  add('engine socket: GET /_ping', pings.direct);
  add('filtered socket: GET /_ping', pings.proxy);

  const baseline = rows['engine socket: create+start+wait+remove']?.p50 ?? Number.NaN;
  const verdicts = (['plain', 'bind'] as const).map((variant) => {
    const total = (path: 'direct' | 'proxy') => distribution(results[variant][path].total).p50;
    const ratio = total('proxy') / total('direct');
    const perCall = (['create', 'start', 'wait', 'remove'] as const).map((step) => {
      const extra =
        distribution(results[variant].proxy[step]).p50 - distribution(results[variant].direct[step]).p50;
      return { step, extraMs: Math.round(extra * 100) / 100 };
    });
    const met = ratio <= 1.1 || perCall.every((call) => call.extraMs <= 5);
    return { variant, ratio: Math.round(ratio * 1000) / 1000, perCall, met };
  });
  const pingExtra = distribution(pings.proxy).p50 - distribution(pings.direct).p50;

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ samples, rows, verdicts, pingExtraMs: pingExtra }, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatTable(rows, baseline)}\n\n`);
    for (const { variant, ratio, perCall, met } of verdicts) {
      const calls = perCall
        .map((call) => `${call.step} ${call.extraMs >= 0 ? '+' : ''}${call.extraMs} ms`)
        .join(', ');
      process.stdout.write(
        `${variant === 'plain' ? 'plain' : 'with a bind'}: filtered / engine p50 x${ratio}; per call at p50: ${calls}; target (< 10% or < 5 ms per call): ${met ? 'met' : 'NOT met'}\n`,
      );
    }
    process.stdout.write(`GET /_ping: +${pingExtra.toFixed(2)} ms at p50 through the filtered socket\n`);
  }
} finally {
  await cleanUp();
}

/** Removes everything this run made, through either socket; also on Ctrl-C. Once, whoever asks first. */
function cleanUp(): Promise<void> {
  cleaning ??= removeWhatThisRunMade();
  return cleaning;
}

async function removeWhatThisRunMade(): Promise<void> {
  direct.close();
  viaProxy.close();
  const left = await proxy.cleanup();
  // Anything this run made on the engine's own socket (an interrupted sample) goes too.
  const filters = encodeURIComponent(JSON.stringify({ label: [`${BENCH_LABEL}=${run}`] }));
  const engine = new Client(ENGINE_SOCKET);
  const stray = (await engine.call('GET', `/containers/json?all=1&filters=${filters}`)).json as {
    Id: string;
  }[];
  for (const container of stray) await engine.call('DELETE', `/containers/${container.Id}?force=1`);
  engine.close();
  say(
    `containers left behind: ${left} through the filtered socket, ${stray.length} through the engine's (removed)`,
  );
}
