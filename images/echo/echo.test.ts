/** The echo image on the real Docker engine, run the way Boilerhouse will run it. */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadWorkload, type WorkloadSpec, workloadEnvironment } from '@boilerhouse/spec';
import { afterAll, beforeAll, expect, test } from 'vitest';

const exec = promisify(execFile);
const workloadFile = new URL('../../workloads/echo.yaml', import.meta.url);
const started: string[] = [];
let spec: WorkloadSpec;
let stateDir: string;

beforeAll(async () => {
  const loaded = loadWorkload(await readFile(workloadFile, 'utf8'), {
    file: workloadFile.pathname,
    env: workloadEnvironment({}),
  });
  spec = loaded.spec as WorkloadSpec;
  stateDir = await mkdtemp(join(tmpdir(), 'echo-state-'));
  await chown(stateDir, 1000, 1000);
});

afterAll(async () => {
  if (started.length > 0) await exec('docker', ['rm', '--force', ...started]);
  await rm(stateDir, { recursive: true, force: true });
});

/** Starts the image locked down as Boilerhouse runs instances, and returns its id and base URL. */
async function startEcho(): Promise<{ id: string; url: string }> {
  const target = spec.volumes.state?.target as string;
  const { stdout } = await exec('docker', [
    'run',
    '--detach',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--user',
    spec.security.user as string,
    '--tmpfs',
    '/tmp',
    '--volume',
    `${stateDir}:${target}`,
    '--publish',
    '127.0.0.1::8080',
    spec.image,
  ]);
  const id = stdout.trim();
  started.push(id);
  const port = (await exec('docker', ['port', id, '8080'])).stdout.trim().split(':').pop();
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (
      await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return { id, url };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`echo did not become healthy: ${(await exec('docker', ['logs', id])).stderr}`);
}

test('GET /counter keeps counting in the state volume, across containers', async () => {
  const first = await startEcho();
  expect(await (await fetch(`${first.url}/counter`)).text()).toBe('1\n');
  expect(await (await fetch(`${first.url}/counter`)).text()).toBe('2\n');
  await exec('docker', ['rm', '--force', first.id]);
  expect(await readFile(join(stateDir, 'counter'), 'utf8')).toBe('2\n');

  const second = await startEcho();
  const counts = await Promise.all(
    Array.from({ length: 5 }, () => fetch(`${second.url}/counter`).then((response) => response.text())),
  );
  expect(counts.map((text) => Number(text)).sort()).toEqual([3, 4, 5, 6, 7]);
});

test('other requests are echoed back', async () => {
  const { url } = await startEcho();
  const response = await fetch(`${url}/some/path?q=1`, {
    method: 'POST',
    body: 'hello',
    headers: { 'x-tenant': 'alice' },
  });
  expect(await response.json()).toMatchObject({
    method: 'POST',
    path: '/some/path?q=1',
    body: 'hello',
    headers: { 'x-tenant': 'alice' },
  });
});

test("the workload's health check passes inside the container", async () => {
  const { id } = await startEcho();
  const test = spec.healthcheck?.test;
  expect(test?.kind).toBe('exec');
  const argv = test?.kind === 'exec' ? test.argv : [];
  await expect(exec('docker', ['exec', id, ...argv])).resolves.toBeDefined();
});
