/**
 * The attack that made a setuid-root shell on the host, and its relatives, from inside a real instance as
 * its own user (1000), through its filtered socket, on the real engine: a child as root, a child that
 * plants a setuid file or a device node in the instance's state, capabilities the workload did not grant,
 * exec as root, and the tenant's secrets in a child's configuration. Each is refused or comes to nothing;
 * what the host does with a setuid-root file in a volume is checked as a user who is not root.
 */
import { spawn } from 'node:child_process';
import { chmod, copyFile, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Signal } from '../pool/signals.ts';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';
import { CHILD_IMAGE } from './testing.ts';

const SECRET = 'sk-test-0123456789abcdef';
/** Under 8 characters: not looked for (see secret-leaks.ts). */
const SHORT_SECRET = 'abc12';

/** One request to the instance's socket, made by node inside the instance; logs are demultiplexed. */
const REQUEST_SCRIPT = `
const http = require('node:http');
const [method, path, body] = process.argv.slice(1);
const request = http.request(
  { socketPath: '/var/run/boilerhouse/docker.sock', method, path, headers: { 'content-type': 'application/json' } },
  (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      let all = Buffer.concat(chunks);
      if (path.includes('/logs')) {
        const frames = [];
        for (let at = 0; at + 8 <= all.length; at += 8 + all.readUInt32BE(at + 4))
          frames.push(all.subarray(at + 8, at + 8 + all.readUInt32BE(at + 4)));
        all = Buffer.concat(frames);
      }
      process.stdout.write(JSON.stringify({ status: response.statusCode, body: all.toString() }));
    });
  },
);
request.on('error', (error) => process.stdout.write(JSON.stringify({ status: 0, body: String(error) })));
request.end(body || undefined);
`;

let harness: Harness;
let instance: string;
let containerId: string;
const denials: string[] = [];

beforeAll(async () => {
  const workload =
    (await echoWorkload({
      'min_idle: 2': 'min_idle: 0',
      '  state:\n    target: /data\n': '  state:\n    target: /data\n  secrets:\n    target: /secrets\n',
    })) +
    `\ndocker:\n  images: ["${CHILD_IMAGE.split(':')[0]}:*"]\n  max_containers: 3\n  exec: true\n  capabilities: [CHOWN]\n  limits: { cpus: 0.5, memory: 64M, pids: 64 }\n`;
  harness = await startHarness({ 'echo.yaml': workload });
  harness.boilerhouse.activity.signals.subscribe((signal: Signal) => {
    if (signal.type === 'docker.denied') denials.push(signal.reason);
  });
  harness.boilerhouse.putSecrets('mallory', 'echo', { MODEL_KEY: SECRET, REGION: SHORT_SECRET });
  const claim = await harness.boilerhouse.claim('mallory', 'echo');
  instance = claim.instance.id;
  containerId = claim.instance.containerId as string;
}, 60_000);

afterAll(async () => {
  const root = join(harness.dataDir, '..');
  await harness.cleanup();
  // Nothing the daemon mounted (its directories, pins) outlives it.
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  expect(mounts.split('\n').filter((line) => line.includes(root))).toEqual([]);
});

/** Runs a shell command in the instance, as the instance's own user. */
async function shell(command: string): Promise<string> {
  const result = await harness.runtime.exec(containerId, ['sh', '-c', command], { timeoutMs: 20_000 });
  return result.output;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const argv = ['node', '-e', REQUEST_SCRIPT, method, path, body === undefined ? '' : JSON.stringify(body)];
  const result = await harness.runtime.exec(containerId, argv, { timeoutMs: 30_000 });
  return JSON.parse(result.output) as { status: number; body: string };
}

/** Creates, starts and waits for a child running `command`; its output, once it is removed. */
async function runChild(command: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await call('POST', '/containers/create', {
    Image: CHILD_IMAGE,
    Cmd: ['sh', '-c', command],
    ...extra,
  });
  expect(created.status, created.body).toBe(201);
  const { Id } = JSON.parse(created.body) as { Id: string };
  expect((await call('POST', `/containers/${Id}/start`)).status).toBe(204);
  expect((await call('POST', `/containers/${Id}/wait`)).status).toBe(200);
  const logs = await call('GET', `/containers/${Id}/logs?stdout=1&stderr=1`);
  expect((await call('DELETE', `/containers/${Id}?force=1`)).status).toBe(204);
  return logs.body;
}

async function refused(body: unknown, words: string, path = '/containers/create'): Promise<string> {
  denials.length = 0;
  const answer = await call('POST', path, body);
  expect(answer.status, answer.body).toBe(403);
  expect(JSON.parse(answer.body).message).toContain(words);
  expect(denials).toHaveLength(1);
  return JSON.parse(answer.body).message as string;
}

describe('children never run as root', () => {
  test('the instance itself is its own user, and its state volume is nosuid,nodev', async () => {
    expect(await shell('id -u; id -g')).toBe('1000\n1000\n');
    expect(await shell(`awk '$5 == "/data" { print $6 }' /proc/self/mountinfo`)).toMatch(/^rw,nosuid,nodev/);
  });

  test.each(['0', 'root', '0:0', '1000:0', 'node', '1001'])('User %j is refused', async (User) => {
    await refused({ Image: CHILD_IMAGE, User }, "containers run as the instance's user, 1000:1000");
  });

  test("an empty User runs as the instance's user, with no capabilities at all and no-new-privileges", async () => {
    expect(
      await runChild('id -u; id -g; id -G; grep -E "^(Cap(Prm|Eff|Bnd)|NoNewPrivs)" /proc/self/status'),
    ).toBe(
      '1000\n1000\n1000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n',
    );
  });

  test('GroupAdd of another group and exec as root are refused', async () => {
    await refused(
      { Image: CHILD_IMAGE, HostConfig: { GroupAdd: ['0'] } },
      'HostConfig.GroupAdd "0" is refused',
    );
    const created = await call('POST', '/containers/create', { Image: CHILD_IMAGE, Cmd: ['sleep', '30'] });
    const { Id } = JSON.parse(created.body) as { Id: string };
    expect((await call('POST', `/containers/${Id}/start`)).status).toBe(204);
    await refused(
      { User: '0', Cmd: ['id'] },
      'exec create refused: User "0" is refused',
      `/containers/${Id}/exec`,
    );
    expect((await call('DELETE', `/containers/${Id}?force=1`)).status).toBe(204);
  });
});

describe("a child with a bind of the instance's state", () => {
  test('plants no setuid-root file and no device: mknod fails, and the mounts are nosuid,nodev', async () => {
    const output = await runChild(
      [
        'cp /bin/dash /state/sh-copy && chmod u+s /state/sh-copy && stat -c %a:%u /state/sh-copy',
        'mknod /state/null c 1 3 2>&1; echo mknod=$?',
        `awk '$5 == "/state" || $5 == "/ro" { print $5, $6 }' /proc/self/mountinfo`,
        'touch /ro/x 2>&1; echo ro=$?',
      ].join('; '),
      { HostConfig: { Binds: ['/data:/state', '/data:/ro:ro'] } },
    );
    const lines = output.trim().split('\n');
    // Setuid to the instance's own user at most, never root.
    expect(lines[0]).toBe('4755:1000');
    expect(lines[1]).toContain('Operation not permitted');
    expect(lines[2]).toBe('mknod=1');
    expect(lines.slice(3, 5).sort()).toEqual([
      expect.stringMatching(/^\/ro ro,nosuid,nodev/),
      expect.stringMatching(/^\/state rw,nosuid,nodev/),
    ]);
    expect(lines[5]).toContain('Read-only file system');
    expect(lines[6]).toBe('ro=1');
  });

  test('a setuid-root file put in the state from the host side is honoured nowhere, and no local user reaches it', async () => {
    const stateDir = join(harness.dataDir, 'instances', instance, 'volumes', 'state');
    const planted = join(stateDir, 'id-setuid-root');
    await copyFile('/usr/bin/id', planted);
    await chmod(planted, 0o4755);
    expect((await stat(planted)).uid).toBe(0);
    expect(await run('findmnt', ['-no', 'OPTIONS', '-T', planted])).toMatch(/nosuid,nodev/);
    // Run by nobody through an open descriptor, so that only the mount's flags stand in the way.
    const handle = await open(planted, 'r');
    try {
      const output = await run(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '/proc/self/fd/3'],
        handle.fd,
      );
      expect(output).toMatch(/^uid=65534/);
      expect(output).not.toContain('euid=0');
    } finally {
      await handle.close();
    }
    expect((await stat(harness.dataDir)).mode & 0o777).toBe(0o700);
    await expect(
      run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'stat', planted]),
    ).rejects.toThrow('Permission denied');
  });
});

describe('capabilities', () => {
  test('one the workload did not grant is refused', async () => {
    await refused(
      { Image: CHILD_IMAGE, HostConfig: { CapAdd: ['KILL'] } },
      'HostConfig.CapAdd "KILL" is refused: the workload does not grant it (docker.capabilities: it grants CHOWN)',
    );
  });

  test('a granted one is passed: the engine puts it in the bounding set, and a non-root child never holds it', async () => {
    expect(
      await runChild('grep -E "^Cap(Eff|Bnd)" /proc/self/status', { HostConfig: { CapAdd: ['CAP_CHOWN'] } }),
    ).toBe('CapEff:\t0000000000000000\nCapBnd:\t0000000000000001\n');
  });
});

describe("the tenant's secrets", () => {
  test('a child whose Env, Cmd or Labels carry a secret value is refused, naming where but never the value', async () => {
    const env = await refused(
      { Image: CHILD_IMAGE, Env: ['HARMLESS=1', `LEAK=Bearer ${SECRET}`] },
      `Env variable "LEAK" (Env[1]) holds the value of the tenant's secret MODEL_KEY`,
    );
    expect(env).not.toContain(SECRET);
    expect(denials).toEqual(['secret']);
    await refused(
      { Image: CHILD_IMAGE, Cmd: ['curl', '-H', `x-api-key: ${SECRET}`] },
      'Cmd[2] holds the value',
    );
    const label = await refused(
      { Image: CHILD_IMAGE, Labels: { [SECRET]: 'x' } },
      'a key of Labels holds the value',
    );
    expect(label).not.toContain(SECRET);
  });

  test('values under 8 characters are not looked for', async () => {
    expect(await runChild('echo "$REGION"', { Env: [`REGION=${SHORT_SECRET}`] })).toBe(`${SHORT_SECRET}\n`);
  });
});

/** Runs a host command; its stdout, or a rejection with its stderr. `fd` becomes the command's fd 3. */
function run(command: string, args: string[], fd?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe', ...(fd === undefined ? [] : [fd])],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command}: ${stderr.trim()}`)),
    );
  });
}
