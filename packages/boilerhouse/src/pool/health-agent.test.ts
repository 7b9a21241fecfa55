/** The gate's health agent, in a real container: health tests by fork, without `docker exec`. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { echoWorkload, type Harness, startHarness } from '../testing/harness.ts';
import { AgentUnavailableError, runViaAgent } from './health-agent.ts';

let harness: Harness;
let runDir: string;

beforeAll(async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    // The health test prints, sleeps as long as the state volume's file `sleep` says, and exits with the
    // code in its file `code` (0 when there is none).
    'test: ["CMD", "bash"':
      'test: ["CMD", "bash", "-c", "echo checking; sleep $(cat /data/sleep 2>/dev/null || echo 0); exit $(cat /data/code 2>/dev/null || echo 0)", "bash"',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const claim = await harness.boilerhouse.claim('alice', 'echo');
  runDir = `${harness.dataDir}/instances/${claim.instance.id}/gate`;
});

afterAll(async () => {
  await harness.cleanup();
});

test('runs the health test inside the container and returns its exit code and output', async () => {
  const result = await runViaAgent(runDir, 2_000);
  expect(result).toEqual({ exitCode: 0, output: 'checking\n' });
});

test('reports a failing test, and the test sees the state volume as the workload does', async () => {
  const { writeFile } = await import('node:fs/promises');
  const stateFile = `${runDir}/../volumes/state/code`;
  await writeFile(stateFile, '3');
  expect((await runViaAgent(runDir, 2_000)).exitCode).toBe(3);
  await writeFile(stateFile, '0');
  expect((await runViaAgent(runDir, 2_000)).exitCode).toBe(0);
});

test('answers one request right after another', async () => {
  for (let i = 0; i < 20; i++)
    expect(await runViaAgent(runDir, 2_000)).toEqual({ exitCode: 0, output: 'checking\n' });
});

test('kills a test that overruns its timeout and reports exit code 124', async () => {
  const { rm, writeFile } = await import('node:fs/promises');
  const sleepFile = `${runDir}/../volumes/state/sleep`;
  await writeFile(sleepFile, '5');
  const result = await runViaAgent(runDir, 300);
  await rm(sleepFile);
  expect(result).toEqual({ exitCode: 124, output: 'checking\n' });
  // The agent is free again for the next request.
  expect((await runViaAgent(runDir, 2_000)).exitCode).toBe(0);
});

test('a directory without an agent is reported as unavailable, so callers fall back to docker exec', async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  const empty = await mkdtemp(`${tmpdir()}/no-agent-`);
  execFileSync('mkfifo', [`${empty}/health-request`, `${empty}/health-response`]);
  await expect(runViaAgent(empty, 500)).rejects.toBeInstanceOf(AgentUnavailableError);
});
