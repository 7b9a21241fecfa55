/** The gate's health agent, in a real container: health tests by fork, without `docker exec`. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { echoWorkload, type Harness, startHarness, waitFor } from '../testing/harness.ts';
import { AgentUnavailableError, runViaAgent } from './health-agent.ts';
import { HealthAnswerError } from './health-answer.ts';

let harness: Harness;
let runDir: string;
let containerId: string;

beforeAll(async () => {
  const text = await echoWorkload({
    'min_idle: 2': 'min_idle: 0',
    // The health test prints (as many bytes more as the state volume's file `flood` says), sleeps as long
    // as its file `sleep` says, and exits with the code in its file `code` (0 when there is none).
    'test: ["CMD", "bash"':
      'test: ["CMD", "bash", "-c", "echo checking; head -c $(cat /data/flood 2>/dev/null || echo 0) /dev/zero | tr \'\\\\0\' y; sleep $(cat /data/sleep 2>/dev/null || echo 0); exit $(cat /data/code 2>/dev/null || echo 0)", "bash"',
  });
  harness = await startHarness({ 'echo.yaml': text });
  const claim = await harness.boilerhouse.claim('alice', 'echo');
  runDir = `${harness.dataDir}/instances/${claim.instance.id}/gate`;
  containerId = claim.instance.containerId as string;
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

test('a health test that floods its output: the gate sends its last 4 KiB and says how much it dropped', async () => {
  const { rm, writeFile } = await import('node:fs/promises');
  const floodFile = `${runDir}/../volumes/state/flood`;
  await writeFile(floodFile, '50000000');
  const result = await runViaAgent(runDir, 5_000);
  await rm(floodFile);
  // "checking\n" and 50 MB of y, less the 4,096 bytes kept.
  expect(result.exitCode).toBe(0);
  expect(result.output).toBe(`[${50_000_009 - 4_096} earlier bytes of output dropped]\n${'y'.repeat(4_096)}`);
});

test('the tenant flooding the answer FIFO fails that health answer at once, and memory does not grow with it', async () => {
  // 300 MB of zeros, no line in them, written by the workload's own user into the FIFO the host reads.
  const flood = harness.runtime.exec(
    containerId,
    ['sh', '-c', 'head -c 300000000 /dev/zero > /.boilerhouse/run/health-response'],
    { timeoutMs: 30_000 },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rssBefore = process.memoryUsage().rss;
  const failure = await runViaAgent(runDir, 2_000).catch((error: unknown) => error);
  const grown = process.memoryUsage().rss - rssBefore;
  // Refused as a malformed answer, not left to run into its timeout.
  expect(failure).toBeInstanceOf(HealthAnswerError);
  expect(grown).toBeLessThan(32 * 1024 * 1024);
  // With the reader gone the flooder's writes fail (no reader: EPIPE) and it ends; once the agent is back
  // from the request it was given (busy until then, as after any answer given up on), it answers again.
  await flood;
  const answer = await waitFor(
    () =>
      runViaAgent(runDir, 2_000).catch((error: unknown) => {
        if (error instanceof AgentUnavailableError) return undefined;
        throw error;
      }),
    5_000,
    'the health agent back',
  );
  expect(answer).toEqual({ exitCode: 0, output: 'checking\n' });
});
