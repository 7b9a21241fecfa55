/**
 * Lifecycle hooks: a workload's `post_claim` and `pre_release` commands, run in the instance in order.
 *
 * Each runs through the gate (`/.boilerhouse/gate --run TIMEOUT_MS -- COMMAND...`, see native/gate.c)
 * rather than straight through `docker exec`: the engine cannot stop an exec, so the gate keeps the timeout
 * inside the container and kills the hook's whole process group when it overruns. The results say what
 * happened; the caller records them and decides (`ok: false` means the claim or release must fail).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backoff, backoffDelay } from '@boilerhouse/kit/backoff';
import type { HookSpec } from '@boilerhouse/spec';
import { BoilerhouseError } from '../errors.ts';
import { GATE_BINARY_TARGET } from '../pool/instance-files.ts';
import { type ContainerRuntime, ExecTimeoutError } from '../runtime/runtime.ts';

export type HookPhase = 'post_claim' | 'pre_release';

export interface HookResult {
  /** Position in the phase's list, from 0. */
  index: number;
  command: string[];
  timeoutMs: number;
  ok: boolean;
  attempts: number;
  /** The last attempt's exit code: 124 when it timed out, 128 + N when signal N ended it. */
  exitCode: number;
  timedOut: boolean;
  /** From the first attempt to the last one's end, back-off included. */
  durationMs: number;
  /** The last attempt's stdout and stderr, interleaved, cut to their last 2 KiB. */
  output: string;
}

export interface HooksResult {
  phase: HookPhase;
  /** False when a hook with `on_error: fail` failed, or one with `retry` ran out of attempts. */
  ok: boolean;
  /** One per hook that ran, in order; hooks after the one that stopped the list did not run. */
  hooks: HookResult[];
  /** The hook that stopped the list, when one did. */
  failure?: HookResult;
}

/** A hook failed the claim or release it ran for. */
export class HookFailedError extends BoilerhouseError {
  readonly phase: HookPhase;
  readonly hook: HookResult;
  constructor(phase: HookPhase, hook: HookResult) {
    super(502, 'hook_failed', describeFailure(phase, hook));
    this.phase = phase;
    this.hook = hook;
  }
}

/** Kept from each hook's output: enough to see why it failed, small enough for an activity row. */
export const HOOK_OUTPUT_BYTES = 2048;
/** Attempts after the first with `on_error: retry` when the workload does not say. */
export const DEFAULT_RETRIES = 3;
/** Between attempts of a hook with `on_error: retry`; their count is `retries`. */
const HOOK_BACKOFF: Backoff = { firstMs: 200, longestMs: 5_000, jitter: 0.2 };
/**
 * How long past a hook's timeout the exec may take: the gate's SIGTERM-to-SIGKILL second, its wait for the
 * group to go (at most another second), and the exec's own round trips.
 */
const EXEC_GRACE_MS = 5_000;
/** The gate's last line on stderr when it stopped a hook; a command's own exit code 124 lacks it. */
const GATE_TIMEOUT_LINE = /boilerhouse-gate: timed out after \d+ ms; stopped\n$/;

/**
 * Runs the hooks in order in the container. Failures follow each hook's `on_error`: `continue` goes on to
 * the next, `retry` tries again after a back-off (200 ms, doubling) up to `retries` more times and then
 * fails, `fail` stops the list. Engine errors (the container is gone, the engine refuses the exec) are
 * thrown: they are not the hook's doing.
 */
export async function runHooks(
  runtime: ContainerRuntime,
  containerId: string,
  hooks: readonly HookSpec[],
  phase: HookPhase,
  env: Record<string, string> = {},
): Promise<HooksResult> {
  const results: HookResult[] = [];
  for (const [index, hook] of hooks.entries()) {
    const result = await runHook(runtime, containerId, hook, index, env);
    results.push(result);
    // `retry` lands here too once its attempts are spent.
    if (!result.ok && hook.onError !== 'continue') {
      return { phase, ok: false, hooks: results, failure: result };
    }
  }
  return { phase, ok: true, hooks: results };
}

async function runHook(
  runtime: ContainerRuntime,
  containerId: string,
  hook: HookSpec,
  index: number,
  env: Record<string, string>,
): Promise<HookResult> {
  const maxAttempts = hook.onError === 'retry' ? 1 + (hook.retries ?? DEFAULT_RETRIES) : 1;
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const outcome = await runOnce(runtime, containerId, hook, env);
    const ok = outcome.exitCode === 0;
    if (ok || attempt >= maxAttempts) {
      const durationMs = Math.round(performance.now() - started);
      return {
        index,
        command: hook.command,
        timeoutMs: hook.timeout,
        ok,
        attempts: attempt,
        ...outcome,
        durationMs,
      };
    }
    await sleep(backoffDelay(HOOK_BACKOFF, attempt));
  }
}

async function runOnce(
  runtime: ContainerRuntime,
  containerId: string,
  hook: HookSpec,
  env: Record<string, string>,
): Promise<{ exitCode: number; timedOut: boolean; output: string }> {
  const argv = [
    GATE_BINARY_TARGET,
    '--run',
    String(Math.max(1, Math.round(hook.timeout))),
    '--',
    ...hook.command,
  ];
  try {
    const { exitCode, output } = await runtime.exec(containerId, argv, {
      timeoutMs: hook.timeout + EXEC_GRACE_MS,
      env,
    });
    const timedOut = exitCode === 124 && GATE_TIMEOUT_LINE.test(output);
    return { exitCode, timedOut, output: lastBytes(output, HOOK_OUTPUT_BYTES) };
  } catch (error) {
    // The gate itself did not come back in time (a process it could not kill, an engine that hangs); what
    // the hook printed is lost with the exec's stream.
    if (!(error instanceof ExecTimeoutError)) throw error;
    const output = `boilerhouse: the hook did not end within ${hook.timeout + EXEC_GRACE_MS}ms\n`;
    return { exitCode: 124, timedOut: true, output };
  }
}

/** The last `limit` bytes of `text` as UTF-8, never starting inside a character. */
function lastBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  let start = bytes.length - limit;
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}

function describeFailure(phase: HookPhase, hook: HookResult): string {
  const what = hook.timedOut ? `timed out after ${hook.timeoutMs}ms` : `exited with ${hook.exitCode}`;
  const attempts = hook.attempts > 1 ? ` after ${hook.attempts} attempts` : '';
  return `hooks.${phase}[${hook.index}] (${hook.command[0] ?? ''}) ${what}${attempts}`;
}
