/**
 * The main job: Boilerhouse serving the NanoClaw workload (local sink, SQLite, web chat), a demo tenant
 * claimed, and the links printed: the dashboard and the demo tenant's chat page. Ctrl-C stops the daemon
 * (instances keep running, and are adopted by the next start); `npm start -- --down` then takes the demo
 * away (scripts/take-down.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isMap, isScalar, parseDocument, Scalar } from 'yaml';
import { configFromEnv } from '../packages/boilerhouse/src/config.ts';
import { startDaemon } from '../packages/boilerhouse/src/daemon.ts';
import { createLogger } from '../packages/boilerhouse/src/log.ts';
import { takeDown } from './take-down.ts';

const root = resolve(import.meta.dirname, '..');
const demo = join(root, '.data', 'demo');
const demoWorkloads = join(demo, 'workloads');
const TENANT = 'demo';
/** What the demo tenant's assistant gets from the operator's environment, as its own secrets. */
const MODEL_KEYS = ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_MODEL'];

// The repository's NanoClaw workload, with state kept in a local directory instead of an S3 bucket (in the
// data directory's sinks folder: the only place a workload's local sink may be), and released after 2 quiet
// minutes instead of 10, so an operator sees the demo tenant idle out on the dashboard and its next message
// (or task) wake it through the gateway. Edited as a YAML document, so the file's comments stay.
const workload = parseDocument(await readFile(join(root, 'workloads', 'nanoclaw.yaml'), 'utf8'));
if (workload.errors.length > 0)
  throw new Error(`workloads/nanoclaw.yaml: ${workload.errors.map((error) => error.message).join('; ')}`);
const pool = workload.get('pool');
const idleTtl = isMap(pool)
  ? pool.items.find((pair) => isScalar(pair.key) && pair.key.value === 'file_idle_ttl_ms')
  : undefined;
if (
  workload.getIn(['sync', 'sink', 'type']) !== 's3' ||
  idleTtl === undefined ||
  !isScalar(idleTtl.value) ||
  idleTtl.value.value !== 600_000
)
  throw new Error(
    'workloads/nanoclaw.yaml has no s3 sink block or 10-minute idle TTL for the demo to replace',
  );
workload.setIn(['sync', 'sink'], workload.createNode({ type: 'local', path: 'sinks/demo' }));
idleTtl.key = new Scalar('file_idle_ttl');
idleTtl.value = Object.assign(new Scalar('2m'), {
  comment: ' the demo: idles out soon after the last message',
});
await rm(demoWorkloads, { recursive: true, force: true });
await mkdir(demoWorkloads, { recursive: true });
await writeFile(
  join(demoWorkloads, 'nanoclaw.yaml'),
  workload.toString({ lineWidth: 0, flowCollectionPadding: false }),
);

// The demo's admin key lives in a file only this user can read, so the CLI can use it too; an operator's
// own BOILERHOUSE_API_KEY wins.
const keyFile = join(demo, 'admin.key');
let apiKey = process.env.BOILERHOUSE_API_KEY;
if (apiKey === undefined) {
  apiKey = (await readFile(keyFile, 'utf8').catch(() => '')).trim();
  if (apiKey === '') {
    apiKey = randomBytes(32).toString('base64url');
    await writeFile(keyFile, `${apiKey}\n`, { mode: 0o600 });
  }
}
const env = { ...process.env, BOILERHOUSE_API_KEY: apiKey };
const headers = { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' };

const config = configFromEnv({
  BOILERHOUSE_DATA_DIR: join(root, '.data', 'boilerhouse'),
  BOILERHOUSE_WORKLOADS_DIR: demoWorkloads,
  ...process.env,
});
const log = createLogger({ level: process.env.BOILERHOUSE_LOG_LEVEL === 'debug' ? 'debug' : 'warn' });
const daemon = await startDaemon(config, log, env);
if (process.argv.includes('--down')) {
  await takeDown(daemon, config.dataDir);
  process.exit(0);
}

const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 204) return undefined as T;
  const json = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(`${method} ${path}: ${json.error?.message ?? response.status}`);
  return json;
};

// The demo tenant's secrets (written to its /app/.env at claim): the key to its chat page, and the model
// settings the operator has in this shell.
const webTokenFile = join(demo, 'web-token');
let webToken = (await readFile(webTokenFile, 'utf8').catch(() => '')).trim();
if (webToken === '') {
  webToken = randomBytes(24).toString('base64url');
  await writeFile(webTokenFile, `${webToken}\n`, { mode: 0o600 });
}
const model = Object.fromEntries(
  MODEL_KEYS.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])),
);
const secrets = { NANOCLAW_WEB_TOKEN: webToken, ...model };
await api('PUT', `/api/v1/tenants/${TENANT}/secrets`, { workload: 'nanoclaw', values: secrets });
// NanoClaw reads its .env when it starts: an instance the tenant kept from an earlier run with other
// settings is replaced (its state is saved first, and restored into the new one).
const secretsFile = join(demo, 'secrets.sha256');
const secretsHash = createHash('sha256').update(JSON.stringify(secrets)).digest('hex');
if ((await readFile(secretsFile, 'utf8').catch(() => '')) !== secretsHash) {
  const held = await api<{ instances: { id: string }[] }>('GET', `/api/v1/tenants/${TENANT}`);
  for (const instance of held.instances) await api('DELETE', `/api/v1/instances/${instance.id}`);
  await writeFile(secretsFile, secretsHash, { mode: 0o600 });
}

// Let the pool warm up first, so the demo claim shows the warm path (a restart finds the tenant's instance).
for (let waited = 0; waited < 120_000; waited += 250) {
  const pool = await api<{ instances: { ready: number }; fill: { last_error: string | null } }>(
    'GET',
    '/api/v1/pools/nanoclaw',
  );
  if (pool.instances.ready > 0) break;
  if (pool.fill.last_error !== null && waited > 10_000)
    throw new Error(`the pool cannot start: ${pool.fill.last_error}`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const claim = await api<{
  endpoints: { port: number; url: string }[];
  path: string;
  timings_ms: { total: number };
}>('POST', `/api/v1/tenants/${TENANT}/claim`, { workload: 'nanoclaw' });
const chat = claim.endpoints.find((endpoint) => endpoint.port === 3847)?.url;
// The gateway's address for the demo tenant (a link minted now, shown once), when the workload is served there.
const gatewaySpec = daemon.boilerhouse.workload('nanoclaw').spec.gateway;
const gatewayLink =
  gatewaySpec === undefined
    ? 'none: workloads/nanoclaw.yaml has no gateway block'
    : gatewaySpec.auth === 'none'
      ? `${daemon.boilerhouse.gateway?.tenantUrl('nanoclaw', TENANT)}/?token=${webToken}`
      : (await api<{ url: string }>('POST', `/api/v1/tenants/${TENANT}/links`, { workload: 'nanoclaw' })).url;
const keyPath = keyFile.replace(`${root}/`, '');

console.log(`
Boilerhouse is serving NanoClaw (local sink, SQLite, web chat).

  dashboard             ${daemon.url}/   (log in with the admin key in ${keyPath})
  demo tenant's chat    ${chat}/?token=${webToken}   (claimed ${claim.path} in ${claim.timings_ms.total}ms)
  through the gateway   ${gatewayLink}
${
  Object.keys(model).length > 0
    ? `  model                 ${Object.keys(model).join(', ')} from this shell, as the demo tenant's secrets`
    : `  model                 none: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL) and start again for answers`
}

The API and CLI take the same key:
  export BOILERHOUSE_URL=${daemon.url} BOILERHOUSE_TOKEN=$(cat ${keyPath})
  npm run boilerhouse -- status
Ctrl-C stops Boilerhouse; its instances keep running and the next start adopts them
(\`npm start -- --down\` then saves every tenant and removes them).
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void daemon.stop().then(() => process.exit(0));
  });
}
