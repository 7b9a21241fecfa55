/**
 * Lifecycle hooks in real containers of the echo image, with the real gate mounted where instances have it.
 * Every container carries this run's label and is removed at the end.
 */
import { randomUUID } from 'node:crypto';
import type { HookSpec } from '@boilerhouse/spec';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configFromEnv } from '../config.ts';
import { BoilerhouseError } from '../errors.ts';
import { GATE_BINARY_TARGET } from '../pool/instance-files.ts';
import { DockerRuntime } from '../runtime/docker.ts';
import { ContainerNotFoundError } from '../runtime/runtime.ts';
import { HOOK_OUTPUT_BYTES, HookFailedError, runHooks } from './hooks.ts';

const runId = randomUUID().slice(0, 8);
const runLabel = { 'boilerhouse.test': `hooks-${runId}` };
const runtime = new DockerRuntime();
let count = 0;
/** For the tests that do not look at the container's processes. */
let shared: string;

beforeAll(async () => {
  shared = await startContainer();
});

afterAll(async () => {
  for (const container of await runtime.list(runLabel)) await runtime.remove(container.id);
  runtime.close();
});

/** An echo container that only idles, with the gate at its usual place, locked down like an instance. */
async function startContainer(): Promise<string> {
  count += 1;
  const id = await runtime.create({
    name: `bh-hooks-test-${runId}-${count}`,
    image: 'boilerhouse/echo:latest',
    entrypoint: ['node', '-e', 'setInterval(() => {}, 1e9)'],
    env: {},
    labels: runLabel,
    readOnlyRootfs: true,
    networkMode: 'none',
    limits: { cpus: 0.5, memoryBytes: 128 * 1024 * 1024, pids: 64 },
    mounts: [{ source: configFromEnv({}).gateBinary, target: GATE_BINARY_TARGET, readOnly: true }],
    expose: [],
    publishHost: '127.0.0.1',
  });
  await runtime.start(id);
  return id;
}

/** A hook running a shell script, failing the claim unless told otherwise. */
function sh(script: string, overrides: Partial<HookSpec> = {}): HookSpec {
  return { command: ['sh', '-c', script], timeout: 10_000, onError: 'fail', ...overrides };
}

async function run(id: string, script: string): Promise<{ exitCode: number; output: string }> {
  return runtime.exec(id, ['sh', '-c', script], { timeoutMs: 10_000 });
}

/** Names of the container's processes, zombies included (the image has no `ps`, so from /proc). */
async function processNames(id: string): Promise<string[]> {
  const { output } = await run(id, 'cat /proc/[0-9]*/stat 2>/dev/null');
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => /^\d+ \((.*)\) /.exec(line)?.[1] ?? line);
}

describe('a list of hooks', () => {
  test('runs in order and returns what each printed, stdout and stderr alike', async () => {
    const result = await runHooks(
      runtime,
      shared,
      [sh('echo hello; echo $$ > /tmp/order-first'), sh('test -f /tmp/order-first && echo oops >&2')],
      'post_claim',
    );
    expect(result).toEqual({
      phase: 'post_claim',
      ok: true,
      hooks: [
        {
          index: 0,
          command: ['sh', '-c', 'echo hello; echo $$ > /tmp/order-first'],
          timeoutMs: 10_000,
          ok: true,
          attempts: 1,
          exitCode: 0,
          timedOut: false,
          durationMs: expect.any(Number),
          output: 'hello\n',
        },
        expect.objectContaining({ index: 1, ok: true, exitCode: 0, output: 'oops\n' }),
      ],
    });
  });

  test('an empty list is ok', async () => {
    expect(await runHooks(runtime, shared, [], 'pre_release')).toEqual({
      phase: 'pre_release',
      ok: true,
      hooks: [],
    });
  });

  test('a failing hook with on_error: fail stops the list and is the failure', async () => {
    const result = await runHooks(
      runtime,
      shared,
      [sh('echo first'), sh('echo broken; exit 3'), sh('touch /tmp/fail-third-ran')],
      'post_claim',
    );
    expect(result.ok).toBe(false);
    expect(result.hooks.map((hook) => hook.ok)).toEqual([true, false]);
    expect(result.failure).toBe(result.hooks[1]);
    expect(result.failure).toMatchObject({ exitCode: 3, timedOut: false, attempts: 1, output: 'broken\n' });
    expect((await run(shared, 'test -e /tmp/fail-third-ran')).exitCode).toBe(1);

    const error = new HookFailedError(result.phase, result.hooks[1] as (typeof result.hooks)[number]);
    expect(error).toBeInstanceOf(BoilerhouseError);
    expect(error).toMatchObject({ status: 502, code: 'hook_failed', phase: 'post_claim' });
    expect(error.message).toBe('hooks.post_claim[1] (sh) exited with 3');
  });

  test('a failing hook with on_error: continue is reported and the list goes on', async () => {
    const result = await runHooks(
      runtime,
      shared,
      [
        sh('echo cannot; exit 5', { onError: 'continue' }),
        { command: ['/no/such/binary'], timeout: 5_000, onError: 'continue' },
        sh('echo after'),
      ],
      'pre_release',
    );
    expect(result.ok).toBe(true);
    expect(result.failure).toBeUndefined();
    expect(result.hooks).toEqual([
      expect.objectContaining({ index: 0, ok: false, exitCode: 5, attempts: 1, output: 'cannot\n' }),
      expect.objectContaining({
        index: 1,
        ok: false,
        exitCode: 127,
        output: 'cannot run /no/such/binary: No such file or directory\n',
      }),
      expect.objectContaining({ index: 2, ok: true, exitCode: 0, output: 'after\n' }),
    ]);
  });

  test('on_error: retry tries again until the hook succeeds', async () => {
    // Counts its attempts in the container's /tmp and succeeds on the third.
    const script =
      'n=$(( $(cat /tmp/retry-count 2>/dev/null || echo 0) + 1 )); echo $n > /tmp/retry-count; ' +
      'echo attempt $n; [ $n -ge 3 ]';
    const result = await runHooks(runtime, shared, [sh(script, { onError: 'retry' })], 'post_claim');
    expect(result.ok).toBe(true);
    expect(result.hooks[0]).toMatchObject({ ok: true, attempts: 3, exitCode: 0, output: 'attempt 3\n' });
  });

  test('on_error: retry gives up after `retries` more attempts and then fails the list', async () => {
    const script = 'echo x >> /tmp/retry-give-up; exit 7';
    const result = await runHooks(
      runtime,
      shared,
      [sh(script, { onError: 'retry', retries: 1 }), sh('touch /tmp/retry-next-ran')],
      'pre_release',
    );
    expect(result.ok).toBe(false);
    expect(result.hooks).toHaveLength(1);
    expect(result.failure).toMatchObject({ ok: false, attempts: 2, exitCode: 7 });
    expect((await run(shared, 'wc -l < /tmp/retry-give-up')).output).toBe('2\n');
    expect((await run(shared, 'test -e /tmp/retry-next-ran')).exitCode).toBe(1);
    expect(
      new HookFailedError('pre_release', result.failure as NonNullable<typeof result.failure>).message,
    ).toBe('hooks.pre_release[0] (sh) exited with 7 after 2 attempts');
  });

  test('exit codes: a signal is 128 + its number; a command of its own exiting 124 did not time out', async () => {
    const result = await runHooks(
      runtime,
      shared,
      [sh('kill -9 $$', { onError: 'continue' }), sh('exit 124', { onError: 'continue' })],
      'post_claim',
    );
    expect(result.hooks).toEqual([
      expect.objectContaining({ exitCode: 137, timedOut: false }),
      expect.objectContaining({ exitCode: 124, timedOut: false }),
    ]);
  });

  test('output is cut to its last 2 KiB, never inside a character', async () => {
    // 3,000 two-byte characters and END: the cut lands inside an é and moves to the next whole one.
    const print = "process.stdout.write('\\u00e9'.repeat(3000) + 'END')";
    const result = await runHooks(
      runtime,
      shared,
      [{ command: ['node', '-e', print], timeout: 10_000, onError: 'fail' }],
      'post_claim',
    );
    const output = result.hooks[0]?.output ?? '';
    expect(output).toBe(`${'é'.repeat(1022)}END`);
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(HOOK_OUTPUT_BYTES);
  });

  test('a container that does not exist is an engine error, thrown', async () => {
    await expect(
      runHooks(runtime, 'bh-no-such-container', [sh('true')], 'post_claim'),
    ).rejects.toBeInstanceOf(ContainerNotFoundError);
  });
});

describe('processes', () => {
  test('a hook that overruns its timeout is killed and reported as timed out, with exit code 124', async () => {
    const id = await startContainer();
    const result = await runHooks(
      runtime,
      id,
      [sh('echo started; sleep 300', { timeout: 500 })],
      'pre_release',
    );
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ ok: false, exitCode: 124, timedOut: true, attempts: 1 });
    expect(result.failure?.output).toBe('started\nboilerhouse-gate: timed out after 500 ms; stopped\n');
    expect(await processNames(id)).not.toContain('sleep');
    const error = new HookFailedError('pre_release', result.failure as NonNullable<typeof result.failure>);
    expect(error.message).toBe('hooks.pre_release[0] (sh) timed out after 500ms');
  });

  test('children left running by a hook that ended are killed with it', async () => {
    const id = await startContainer();
    const result = await runHooks(runtime, id, [sh('sleep 301 & echo spawned')], 'post_claim');
    expect(result.hooks[0]).toMatchObject({ ok: true, exitCode: 0, output: 'spawned\n' });
    expect(await processNames(id)).not.toContain('sleep');
  });

  test('on a timeout, the whole group goes, also processes that ignore SIGTERM', async () => {
    const id = await startContainer();
    // The trap makes the shell and both sleeps ignore SIGTERM: only the SIGKILL that follows ends them.
    const script = 'trap "" TERM; sleep 302 & sleep 303';
    const result = await runHooks(runtime, id, [sh(script, { timeout: 500 })], 'post_claim');
    expect(result.failure).toMatchObject({ exitCode: 124, timedOut: true });
    expect(await processNames(id)).not.toContain('sleep');
  });

  test('a process that left the group (setsid) outlives the hook, which still returns', async () => {
    const id = await startContainer();
    // The marker file is written after setsid(), so the hook ends only once the daemon has left its group;
    // the daemon still holds the hook's output pipe, which must not keep the hook from returning.
    const script =
      'setsid sh -c "touch /tmp/detached; exec sleep 304" & ' +
      'while [ ! -e /tmp/detached ]; do sleep 0.01; done; echo started a daemon';
    const result = await runHooks(runtime, id, [sh(script)], 'post_claim');
    expect(result.hooks[0]).toMatchObject({ ok: true, exitCode: 0, output: 'started a daemon\n' });
    expect(await processNames(id)).toContain('sleep');
  });
});
