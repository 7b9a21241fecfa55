/**
 * The CLI end to end: `runCli` against a real daemon (HTTP on loopback, auth on) on the real Docker engine.
 * The tests run in order and share the daemon: apply a workload, claim, look, release, ...
 */

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { configFromEnv } from '../config.ts';
import { type Daemon, startDaemon } from '../daemon.ts';
import { silentLogger } from '../log.ts';
import { DockerRuntime } from '../runtime/docker.ts';
import { MemoryDirs } from '../secrets/index.ts';
import { echoWorkload, waitFor } from '../testing/harness.ts';
import { removeDaemonLeftovers } from '../testing/leftovers.ts';
import { runCli } from './main.ts';

let root: string;
let daemon: Daemon;
const key = `cli-test-${randomBytes(16).toString('hex')}`;
const SECRET = 'sk-very-secret-value-0042';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boilerhouse-cli-'));
  await mkdir(join(root, 'workloads'));
  const config = configFromEnv({
    BOILERHOUSE_DATA_DIR: join(root, 'data'),
    BOILERHOUSE_WORKLOADS_DIR: join(root, 'workloads'),
    BOILERHOUSE_PORT: '0',
  });
  daemon = await startDaemon(config, silentLogger, { BOILERHOUSE_API_KEY: key });
});

afterAll(async () => {
  if (daemon === undefined) return;
  const daemonId = daemon.boilerhouse.daemonId;
  await daemon.stop();
  const runtime = new DockerRuntime();
  await removeDaemonLeftovers(runtime, daemonId, join(root, 'data'));
  runtime.close();
  await rm(root, { recursive: true, force: true });
  await rm(new MemoryDirs(join(root, 'data')).root, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Starts the CLI as `bh` with the daemon's URL and the admin key, plus `env`; `result` fills as it runs. */
function start(args: string[], env: Record<string, string | undefined> = {}, signal?: AbortSignal) {
  const result: Run = { code: -1, out: '', err: '' };
  const done = runCli(args, {
    out: (text) => {
      result.out += text;
    },
    err: (text) => {
      result.err += text;
    },
    env: { BOILERHOUSE_URL: daemon.url, BOILERHOUSE_TOKEN: key, ...env },
    prog: 'bh',
    signal,
  }).then((code) => {
    result.code = code;
    return code;
  });
  return { result, done };
}

async function bh(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const run = start(args, env);
  await run.done;
  return run.result;
}

/** The failure contract: exit 1 and exactly one line on stderr. */
function expectFailure(result: Run, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.err.split('\n')).toHaveLength(2);
  expect(result.err).toMatch(/^bh: /);
  expect(result.err).toMatch(pattern);
}

let instanceId = '';
let bobId = '';

test('workload apply creates the workload from its file; list shows it; a bad file names its problems', async () => {
  const file = join(root, 'echo.yaml');
  await writeFile(
    file,
    await echoWorkload({
      'min_idle: 2': 'min_idle: 1',
      '  state:\n    target: /data': '  state:\n    target: /data\n  secrets:\n    target: /secrets/.env',
    }),
  );
  const applied = await bh(['workload', 'apply', file]);
  expect(applied).toMatchObject({ code: 0, err: '' });
  expect(applied.out).toMatch(/^created workload echo \(version [0-9a-f]{12}\)\n$/);

  const list = await bh(['workload', 'list']);
  expect(list.code).toBe(0);
  const [header, row] = list.out.split('\n');
  expect(header).toMatch(/^ID\s+NAME\s+IMAGE\s+VERSION\s+MIN IDLE\s+MAX SIZE\s+STATE$/);
  expect(row).toMatch(/^echo\s+HTTP echo\s+boilerhouse\/echo:latest\s+[0-9a-f]{12}\s+1\s+10\s+active$/);
  const json = JSON.parse((await bh(['workload', 'list', '--json'])).out);
  expect(json.workloads).toMatchObject([{ id: 'echo', min_idle: 1, max_size: 10, removed: false }]);

  // --id applies the same file as another workload, as its help's example does.
  const staging = await bh(['workload', 'apply', file, '--id', 'echo-staging']);
  expect(staging.out).toMatch(/^created workload echo-staging \(version [0-9a-f]{12}\)\n$/);
  expect(await bh(['workload', 'delete', 'echo-staging'])).toMatchObject({ code: 0 });

  const bad = join(root, 'bad.yaml');
  await writeFile(bad, 'id: bad\nimage: busybox\npool:\n  min_idle: 3\n  max_size: 1\n');
  const refused = await bh(['workload', 'apply', bad]);
  expect(refused.out).toBe(`${bad}:4:13 pool.min_idle: min_idle (3) cannot exceed max_size (1)\n`);
  expectFailure(refused, /^bh: workload apply .*bad\.yaml: 400 invalid_workload: .* \(request [\w.-]+\)\n$/);
});

test('claim prints the instance and its endpoint; a second claim is the same instance', async () => {
  const claimed = await bh(['claim', 'alice', '--workload', 'echo']);
  expect(claimed).toMatchObject({ code: 0, err: '' });
  expect(claimed.out).toMatch(/^tenant: {4}alice\nworkload: {2}echo\ninstance: {2}echo-[0-9a-f]+\n/m);
  expect(claimed.out).toMatch(/^endpoint: {2}8080 -> http:\/\/127\.0\.0\.1:\d+$/m);
  instanceId = /instance: +(\S+)/.exec(claimed.out)?.[1] ?? '';

  const again = JSON.parse((await bh(['claim', 'alice', '--workload', 'echo', '--json'])).out);
  expect(again).toMatchObject({ tenant: 'alice', workload: 'echo', instance: { id: instanceId } });
  expect(await (await fetch(`${again.endpoints[0].url}/health`)).text()).toBe('ok\n');
});

test('status shows the pool, the instances and (none yet) reservations', async () => {
  const status = await bh(['status']);
  expect(status.code).toBe(0);
  expect(status.out).toMatch(/^POOLS\nWORKLOAD\s+VERSION\s+MIN IDLE\s+MAX SIZE\s+READY\s+CREATING\s+CLAIMED/);
  expect(status.out).toMatch(/^echo\s+[0-9a-f]{12}\s+1\s+10\s+\d+\s+\d+\s+1\s+0\s+-\s+-\s+ok$/m);
  expect(status.out).toMatch(
    new RegExp(`^${instanceId}\\s+echo\\s+claimed\\s+alice\\s+[0-9a-f]{12} current\\s`, 'm'),
  );
  expect(status.out).toMatch(/\nRESERVATIONS\n\(none\)\n$/);
  const json = JSON.parse((await bh(['status', '--json'])).out);
  expect(json.pools).toMatchObject([{ workload: 'echo', instances: { claimed: 1 } }]);
  expect(json.instances.map((i: { id: string }) => i.id)).toContain(instanceId);
});

test('tenants lists alice; tenant show gives her instance and endpoint', async () => {
  const tenants = await bh(['tenants']);
  expect(tenants.out).toMatch(
    new RegExp(`^TENANT\\s+WORKLOAD\\s+INSTANCE\\s+PHASE\\nalice\\s+echo\\s+${instanceId}\\s+claimed\\n$`),
  );
  const show = await bh(['tenant', 'show', 'alice']);
  expect(show.code).toBe(0);
  expect(show.out).toMatch(
    new RegExp(`^echo\\s+${instanceId}\\s+claimed\\s+.*http://127\\.0\\.0\\.1:\\d+\\s+-$`, 'm'),
  );
  const json = JSON.parse((await bh(['tenant', 'show', 'alice', '--json'])).out);
  expect(json).toMatchObject({ tenant: 'alice', instances: [{ id: instanceId }] });
});

test('secrets set stores values given as arguments, from the environment and from a file, and never prints them', async () => {
  const envFile = join(root, 'alice.env');
  await writeFile(envFile, `# alice's keys\nFROM_FILE="${SECRET}-file"\n`);
  const args = ['secrets', 'set', 'alice', '--workload', 'echo', `API_KEY=${SECRET}`, 'FROM_ENV'];
  const set = await bh([...args, '--from-env-file', envFile], { FROM_ENV: `${SECRET}-env` });
  expect(set).toEqual({
    code: 0,
    out: 'set 3 secrets of alice for echo (FROM_FILE, API_KEY, FROM_ENV); stored now: API_KEY, FROM_ENV, FROM_FILE\n',
    err: '',
  });
  const json = await bh([...args, '--json'], { FROM_ENV: `${SECRET}-env` });
  expect(JSON.parse(json.out)).toEqual({
    tenant: 'alice',
    workload: 'echo',
    keys: ['API_KEY', 'FROM_ENV', 'FROM_FILE'],
    shadowed: [],
  });
  expect(json.out + json.err).not.toContain(SECRET);
  const names = await bh(['secrets', 'list', 'alice']);
  expect(names.out).toMatch(/^echo\s+API_KEY, FROM_ENV, FROM_FILE\s/m);
});

test('secrets set, one name at a time as the hosting guide does, keeps the others; replace and unset say what they do', async () => {
  for (const line of ['MODEL_KEY', 'WEB_TOKEN=t0ken-for-bob', 'WHATSAPP_ENABLED=true']) {
    const one = await bh(['secrets', 'set', 'bob', '--workload', 'echo', line], {
      MODEL_KEY: `${SECRET}-model`,
    });
    expect(one, line).toMatchObject({ code: 0, err: '' });
  }
  expect((await bh(['secrets', 'list', 'bob'])).out).toMatch(
    /^echo\s+MODEL_KEY, WEB_TOKEN, WHATSAPP_ENABLED\s/m,
  );
  const unset = await bh(['secrets', 'unset', 'bob', '--workload', 'echo', 'WHATSAPP_ENABLED']);
  expect(unset.out).toBe(
    'removed 1 secret of bob for echo (WHATSAPP_ENABLED); stored now: MODEL_KEY, WEB_TOKEN\n',
  );
  // A name the workload's environment sets too is stored, and said to be shadowed.
  const shadowed = await bh(['secrets', 'set', 'bob', '--workload', 'echo', 'STATE_DIR=/elsewhere']);
  expect(shadowed.out).toContain("warning: workload echo's environment sets STATE_DIR too");
  const replaced = await bh(['secrets', 'replace', 'bob', '--workload', 'echo', 'ONLY=this']);
  expect(replaced.out).toBe('replaced the set with 1 secret of bob for echo (ONLY); stored now: ONLY\n');
  // A bare name whose variable is not in the environment is a usage error that names it.
  const unexported = await bh(['secrets', 'set', 'bob', '--workload', 'echo', 'NOT_EXPORTED']);
  expect(unexported.code).toBe(2);
  expect(unexported.err).toContain('NOT_EXPORTED');
});

test('release reserves the instance for alice; snapshots list shows the save; restore makes it current', async () => {
  const released = await bh(['release', 'alice', '--workload', 'echo']);
  expect(released).toMatchObject({ code: 0, err: '' });
  expect(released.out).toMatch(
    new RegExp(
      `^released echo for alice in [\\d.]+ m?s: instance ${instanceId} reserved for alice until .* \\(in \\d+m`,
    ),
  );
  const status = await bh(['status']);
  expect(status.out).toMatch(new RegExp(`\\nRESERVATIONS\\n.*\\nalice\\s+echo\\s+${instanceId}\\s`));

  const list = await bh(['snapshots', 'list', 'alice', '--workload', 'echo']);
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/^\s*SEQ\s+CREATED\s+AGE\s+INSTANCE\s+FILES\s+SIZE\n\s*\*1\s/);
  const json = JSON.parse((await bh(['snapshots', 'list', 'alice', '--workload', 'echo', '--json'])).out);
  expect(json).toMatchObject({ tenant: 'alice', workload: 'echo', head: 1, saves: [{ seq: 1 }] });

  const restored = await bh(['snapshots', 'restore', 'alice', '1', '--workload', 'echo']);
  expect(restored).toMatchObject({ code: 0, err: '' });
  expect(restored.out).toMatch(/^restored save 1 of alice's echo state \(head is now \d+\)\n$/);
  const missing = await bh(['snapshots', 'restore', 'alice', '99', '--workload', 'echo']);
  expectFailure(missing, /^bh: snapshots restore alice: 404 not_found: tenant alice has no save 99 of echo/);
});

test('events --json is the API response; events prints a table, oldest first', async () => {
  const json = JSON.parse((await bh(['events', '--json', '--limit', '50'])).out);
  const types = json.events.map((event: { type: string }) => event.type);
  expect(types).toContain('instance.claimed');
  expect(types).toContain('instance.reserved');
  expect(json.events[0].id).toBeGreaterThan(json.events.at(-1).id);
  const table = await bh(['events', '--limit', '5']);
  expect(table.code).toBe(0);
  expect(table.out).toMatch(/^TIME\s+TYPE\s+WORKLOAD\s+TENANT\s+INSTANCE\s+MESSAGE\n/);
  expect(table.out.trim().split('\n')).toHaveLength(6);
});

test('events --follow prints events as they happen until stopped', async () => {
  const stop = new AbortController();
  const follow = start(['events', '--follow', '--limit', '1'], {}, stop.signal);
  await waitFor(() => follow.result.out !== '', 10_000, 'the newest event');
  const claimed = await bh(['claim', 'bob', '--workload', 'echo']);
  expect(claimed.code).toBe(0);
  bobId = /instance: +(\S+)/.exec(claimed.out)?.[1] as string;
  // Events recorded before the stream connected are replayed after the newest one printed (Last-Event-ID).
  const line = new RegExp(
    `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  instance\\.claimed    echo bob ${bobId}  `,
    'm',
  );
  await waitFor(() => line.test(follow.result.out), 10_000, "bob's claim event");
  stop.abort();
  expect(await follow.done).toBe(0);
  expect(follow.result.err).toBe('');
  expect(follow.result.out.split('\n').filter((text) => line.test(text))).toHaveLength(1);
});

test("logs prints the container's output", async () => {
  // (alice's instance went with the restore: her next claim starts from the restored save.)
  const logs = await bh(['logs', bobId, '--tail', '20']);
  expect(logs).toMatchObject({ code: 0, err: '' });
  expect(logs.out).toContain('echo listening on :8080, state in /data\n');
  expectFailure(await bh(['logs', 'echo-0000000000']), /^bh: logs echo-0000000000: 404 not_found: /);
});

test('pools scale and drain print the pool afterwards', async () => {
  const scaled = await bh(['pools', 'scale', 'echo', '--min-idle', '0', '--max-size', '5']);
  expect(scaled).toMatchObject({ code: 0, err: '' });
  expect(scaled.out).toMatch(/^pool echo: min_idle 0, max_size 5; instances: .*; fill ok\n$/);
  const drained = await bh(['pools', 'drain', 'echo', '--json']);
  expect(JSON.parse(drained.out)).toMatchObject({ workload: 'echo', min_idle: 0, instances: { ready: 0 } });
  const back = await bh(['pools', 'scale', 'echo', '--min-idle', 'file']);
  expect(back.out).toMatch(/^pool echo: min_idle 1, max_size 5;/);
});

test('tokens: create, list and revoke; scopes are enforced and a revoked token fails in one line', async () => {
  const created = await bh(['tokens', 'create', 'ci', '--scope', 'read', '--expires-in', '30d']);
  expect(created.code).toBe(0);
  const token = created.out.trim();
  expect(created.out).toBe(`${token}\n`);
  expect(created.err).toMatch(
    /^created token [0-9a-f]{12} "ci" \(scopes: read; reaches every tenant and workload; expires .*\); it is shown only now/,
  );
  const id = /created token (\S+)/.exec(created.err)?.[1] as string;

  const list = await bh(['tokens', 'list']);
  expect(list.out).toMatch(
    new RegExp(`^${id}\\s+ci\\s+read\\s+all\\s+all\\s+\\S+ \\S+\\s+in \\d+d\\s+never$`, 'm'),
  );

  const asCi = { BOILERHOUSE_TOKEN: token };
  expect((await bh(['tenants'], asCi)).code).toBe(0);
  expectFailure(
    await bh(['claim', 'carol', '--workload', 'echo'], asCi),
    /^bh: claim carol: 403 forbidden: .*"tenants:claim" scope.* \(request [\w.-]+\)\n$/,
  );

  expect(await bh(['tokens', 'revoke', id])).toEqual({ code: 0, out: `revoked token ${id}\n`, err: '' });
  expectFailure(
    await bh(['status'], asCi),
    /^bh: status: 401 unauthorized: .*the token was refused \(wrong, expired or revoked\): check BOILERHOUSE_TOKEN .*\(request [\w.-]+\)\n$/,
  );
  expectFailure(
    await bh(['status'], { BOILERHOUSE_TOKEN: undefined }),
    /^bh: status: 401 unauthorized: .*no token was sent: set BOILERHOUSE_TOKEN or pass --token/,
  );
});

test('tokens create --tenant --workload: the token claims only that tenant of that workload, sees only it, and the list shows its reach', async () => {
  const created = await bh([
    ...['tokens', 'create', 'dave-web', '--scope', 'tenants:claim', '--scope', 'read'],
    ...['--tenant', 'dave', '--tenant', 'dave@example.com', '--workload', 'echo'],
  ]);
  expect(created.code).toBe(0);
  expect(created.err).toMatch(
    /\(scopes: tenants:claim, read; reaches only tenants dave, dave@example\.com and workloads echo; never expires\)/,
  );
  const id = /created token (\S+)/.exec(created.err)?.[1] as string;
  const list = await bh(['tokens', 'list']);
  expect(list.out).toMatch(/^ID\s+NAME\s+SCOPES\s+TENANTS\s+WORKLOADS\s+CREATED/);
  expect(list.out).toMatch(
    new RegExp(`^${id}\\s+dave-web\\s+tenants:claim,read\\s+dave,dave@example\\.com\\s+echo\\s`, 'm'),
  );
  const json = JSON.parse((await bh(['tokens', 'list', '--json'])).out);
  expect(json.tokens.find((token: { id: string }) => token.id === id)).toMatchObject({
    tenants: ['dave', 'dave@example.com'],
    workloads: ['echo'],
  });

  const asDave = { BOILERHOUSE_TOKEN: created.out.trim() };
  expect((await bh(['claim', 'dave', '--workload', 'echo'], asDave)).code).toBe(0);
  expectFailure(
    await bh(['claim', 'erin', '--workload', 'echo'], asDave),
    /^bh: claim erin: 403 forbidden: path\.tenant: this token is limited to tenants dave, dave@example\.com and workloads echo, not "erin" \(request [\w.-]+\)\n$/,
  );
  const tenants = await bh(['tenants'], asDave);
  expect(tenants.out).toMatch(/^TENANT\s+WORKLOAD\s+INSTANCE\s+PHASE\ndave\s+echo\s+\S+\s+claimed\n$/);

  expectFailure(
    await bh(['tokens', 'create', 'boss', '--scope', 'admin', '--tenant', 'dave']),
    /^bh: tokens create boss: 400 bad_request: body\.tenants: cannot limit a token with the "admin" scope/,
  );
  const help = await bh(['tokens', 'create', '--help']);
  expect(help.out).toContain('--tenant T');
  expect(help.out).toContain(
    'bh tokens create alice-web --scope tenants:claim --scope read --tenant alice --workload nanoclaw',
  );
});

test('an unknown command and a missing argument are usage errors (exit 2)', async () => {
  const unknown = await bh(['frobnicate']);
  expect(unknown.code).toBe(2);
  expect(unknown.err).toMatch(/^bh: unknown command "frobnicate"\n\nusage: bh <command>/);
  const missing = await bh(['release', '--workload', 'echo']);
  expect(missing).toMatchObject({ code: 2, out: '' });
  expect(missing.err).toMatch(
    /^bh release: missing TENANT\nusage: bh release TENANT --workload W \[options\]\n/,
  );
});

test('a refused connection names the URL and suggests boilerhouse serve', async () => {
  const url = await closedPortUrl();
  const result = await bh(['status'], { BOILERHOUSE_URL: url });
  expectFailure(
    result,
    new RegExp(
      `^bh: status: cannot reach the Boilerhouse API at ${url}: connection refused; .*"boilerhouse serve"`,
    ),
  );
  expect((await bh(['tenants', '--url', url])).err).toContain(url);
});

test('instances list shows each instance with its version; instances destroy saves, then destroys', async () => {
  const claimed = JSON.parse((await bh(['claim', 'carol', '--workload', 'echo', '--json'])).out);
  const id = claimed.instance.id as string;
  const list = await bh(['instances', 'list', '--workload', 'echo']);
  expect(list.out).toMatch(new RegExp(`^${id}\\s+echo\\s+[0-9a-f]{12} current\\s+claimed\\s+carol\\s`, 'm'));
  const logs = await bh(['instances', 'logs', id, '--tail', '5']);
  expect(logs.code).toBe(0);
  expect(await bh(['instances', 'destroy', id])).toEqual({ code: 0, out: `destroyed ${id}\n`, err: '' });
  expect((await bh(['instances', 'list'])).out).not.toContain(id);
  const missing = await bh(['instances', 'destroy', id]);
  expectFailure(missing, new RegExp(`^bh: instances destroy ${id}: 404 not_found: no instance ${id}`));
});

test('workload delete --force releases tenants and removes the workload', async () => {
  const refused = await bh(['workload', 'delete', 'echo']);
  expectFailure(refused, /^bh: workload delete echo: 409 conflict: .*bob.*\(request [\w.-]+\)\n$/);
  const deleted = await bh(['workload', 'delete', 'echo', '--force']);
  expect(deleted).toEqual({ code: 0, out: 'deleted workload echo\n', err: '' });
  const list = JSON.parse((await bh(['workload', 'list', '--json'])).out);
  expect(list.workloads.filter((w: { removed: boolean }) => !w.removed)).toEqual([]);
});

test('instances destroy --all takes every instance of a workload away, each saved first', async () => {
  const file = join(root, 'echo-two.yaml');
  await writeFile(file, await echoWorkload({ 'id: echo': 'id: echo-two', 'min_idle: 2': 'min_idle: 1' }));
  expect((await bh(['workload', 'apply', file])).code).toBe(0);
  const claimed = JSON.parse((await bh(['claim', 'erin', '--workload', 'echo-two', '--json'])).out);
  await fetch(`${claimed.endpoints[0].url}/counter`);
  expect((await bh(['instances', 'destroy'])).code).toBe(2);
  const all = await bh(['instances', 'destroy', '--all', '--workload', 'echo-two']);
  expect(all.out).toContain(`destroyed ${claimed.instance.id}\n`);
  const left = JSON.parse((await bh(['instances', 'list', '--workload', 'echo-two', '--json'])).out);
  // The pool refills its min_idle; the tenant's instance is gone, its counter saved.
  expect(left.instances.filter((instance: { tenant: string | null }) => instance.tenant !== null)).toEqual(
    [],
  );
  const list = await bh(['snapshots', 'list', 'erin', '--workload', 'echo-two']);
  expect(list.out).toMatch(/^\s*\*1\s/m);
});

/** A loopback URL nothing listens on (a port just freed). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
