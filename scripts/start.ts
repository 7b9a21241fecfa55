/**
 * The main job, as far as the project has come: Boilerhouse serving the echo workload, with a demo
 * tenant claimed, and the links printed. Ctrl-C stops the daemon (instances keep running, and are adopted
 * by the next start).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { configFromEnv } from '../packages/boilerhouse/src/config.ts';
import { startDaemon } from '../packages/boilerhouse/src/daemon.ts';
import { createLogger } from '../packages/boilerhouse/src/log.ts';

const root = resolve(import.meta.dirname, '..');
const demoWorkloads = join(root, '.data', 'demo', 'workloads');

// Only the echo workload for now: the NanoClaw images arrive with a later part of the project.
await rm(demoWorkloads, { recursive: true, force: true });
await mkdir(demoWorkloads, { recursive: true });
await symlink(join(root, 'workloads', 'echo.yaml'), join(demoWorkloads, 'echo.yaml'));

// The demo's admin key lives in a file only this user can read, so the CLI can use it too; an operator's
// own BOILERHOUSE_API_KEY wins.
const keyFile = join(root, '.data', 'demo', 'admin.key');
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

// Let the pool warm up first, so the demo claim shows the warm path (a restart finds the tenant's instance).
for (let waited = 0; waited < 30_000; waited += 100) {
  const pool = (await (await fetch(`${daemon.url}/api/v1/pools/echo`, { headers })).json()) as {
    instances: { ready: number };
  };
  if (pool.instances.ready > 0) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const response = await fetch(`${daemon.url}/api/v1/tenants/demo/claim`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ workload: 'echo' }),
});
const claim = (await response.json()) as {
  endpoints?: { url: string }[];
  path?: string;
  timings_ms?: { total: number };
  error?: { message: string };
};
if (!response.ok) throw new Error(`the demo claim failed: ${claim.error?.message}`);
const echo = claim.endpoints?.[0]?.url;

console.log(`
Boilerhouse is serving the echo workload.

  API                   ${daemon.url}/api/v1/pools
  demo tenant's echo    ${echo}/counter   (claimed ${claim.path} in ${claim.timings_ms?.total}ms; counts up in its state)

The API needs the admin key (kept in ${keyFile.replace(`${root}/`, '')}):
  export BOILERHOUSE_URL=${daemon.url} BOILERHOUSE_TOKEN=$(cat ${keyFile.replace(`${root}/`, '')})
  npm run boilerhouse -- status
  curl -H "Authorization: Bearer $BOILERHOUSE_TOKEN" -H 'Content-Type: application/json' \\
       -X POST $BOILERHOUSE_URL/api/v1/tenants/alice/claim -d '{"workload":"echo"}'
Ctrl-C stops Boilerhouse; its instances keep running and the next start adopts them.
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void daemon.stop().then(() => process.exit(0));
  });
}
