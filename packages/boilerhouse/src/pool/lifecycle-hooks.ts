/** Runs an instance's post_claim or pre_release hooks, recording each in the activity log. */
import type { HookSpec } from '@boilerhouse/spec';
import type { Instance } from '../db/instances.ts';
import { HookFailedError, type HookPhase, runHooks } from '../hooks/hooks.ts';
import type { PoolDeps } from './deps.ts';

/** What running hooks uses: the engine to exec in the instance, the activity log to record each. */
export type HookDeps = Pick<PoolDeps, 'runtime' | 'activity'>;

/** Resolves when the hooks passed (or failed with `on_error: continue`); rejects with HookFailedError. */
export async function runLifecycleHooks(
  deps: HookDeps,
  instance: Instance,
  hooks: readonly HookSpec[],
  phase: HookPhase,
): Promise<void> {
  if (hooks.length === 0 || instance.containerId === null) return;
  // Hooks see what the workload's process sees at claim time.
  const env = { BOILERHOUSE_TENANT: instance.tenant ?? '', BOILERHOUSE_INSTANCE: instance.id };
  const result = await runHooks(deps.runtime, instance.containerId, [...hooks], phase, env);
  for (const hook of result.hooks) {
    deps.activity.record(
      {
        type: hook.ok ? 'hook.succeeded' : 'hook.failed',
        workload: instance.workload,
        tenant: instance.tenant,
        instance: instance.id,
        message: `${phase} hook ${hook.index} (${hook.command[0]}) ${hook.ok ? 'succeeded' : hook.timedOut ? 'timed out' : `exited with ${hook.exitCode}`} after ${hook.attempts} attempt(s)`,
        data: { phase, ...hook },
      },
      hook.ok ? 'info' : 'warn',
    );
  }
  if (!result.ok && result.failure !== undefined) throw new HookFailedError(phase, result.failure);
}
