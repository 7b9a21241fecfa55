/**
 * The sinks of the workloads served, tried once per version of a workload (state/sinks/check.ts): when it
 * is applied, or when its file loads. A file whose sink cannot be used still loads (an outage of the sink
 * at start-up must not leave its tenants' instances without a workload); its problem shows until a later
 * try finds the sink answering.
 */
import { basename } from 'node:path';
import type { WorkloadEnvironment, WorkloadSpec } from '@boilerhouse/spec';
import { checkSink, type SinkProblem } from '../state/sinks/check.ts';
import type { FoundProblem, WorkloadProblem } from './workload-problems.ts';
import type { Workload } from './workloads.ts';

export class WorkloadSinks {
  /** Only what BOILERHOUSE_WORKLOAD_ENV allows: the credentials' variables are among them. */
  readonly #env: WorkloadEnvironment;
  /** The version of each workload whose sink was last tried, and what that found. */
  readonly #tried = new Map<string, { hash: string; problem: SinkProblem | undefined }>();

  constructor(env: WorkloadEnvironment) {
    this.#env = env;
  }

  /** Tries the sink of a workload about to be applied; that version counts as tried when it answers. */
  async tryBeforeApply(id: string, spec: WorkloadSpec, hash: string): Promise<SinkProblem | undefined> {
    const problem = await this.#try(spec);
    if (problem === undefined) this.#tried.set(id, { hash, problem });
    return problem;
  }

  /**
   * Tries, in parallel, the sink of every workload of `active` whose version it has not tried yet; returns
   * the problem of each whose sink cannot be used, tried now or before.
   */
  async problems(active: readonly Workload[]): Promise<FoundProblem[]> {
    for (const id of this.#tried.keys()) {
      if (!active.some((workload) => workload.id === id)) this.#tried.delete(id);
    }
    await Promise.all(
      active
        .filter((workload) => this.#tried.get(workload.id)?.hash !== workload.hash)
        .map(async (workload) => {
          this.#tried.set(workload.id, { hash: workload.hash, problem: await this.#try(workload.spec) });
        }),
    );
    return active.flatMap((workload) => {
      const problem = this.#tried.get(workload.id)?.problem;
      return problem === undefined ? [] : [sinkProblem(workload, problem)];
    });
  }

  /** Whether some sink could not be used at its last try. */
  get failing(): boolean {
    return [...this.#tried.values()].some((tried) => tried.problem !== undefined);
  }

  /** Forgets the tries that failed, so that the next load tries those sinks again. */
  retryFailed(): void {
    for (const [id, tried] of this.#tried) {
      if (tried.problem !== undefined) this.#tried.delete(id);
    }
  }

  #try(spec: WorkloadSpec): Promise<SinkProblem | undefined> {
    const sink = spec.sync?.sink;
    return sink === undefined ? Promise.resolve(undefined) : checkSink(sink, this.#env.values());
  }
}

/** What the event says when a sink's problem clears; `workload` as it is now, if it is still served. */
export function sinkFixed(problem: WorkloadProblem, workload: Workload | undefined): string {
  if (workload === undefined || workload.removed) {
    return `workload ${problem.workload} is gone, and the problem of its sink with it`;
  }
  return workload.spec.sync?.sink.type === 's3'
    ? `the S3 sink of ${workload.id} answers (version ${workload.hash})`
    : `workload ${workload.id} no longer uses that sink (version ${workload.hash})`;
}

function sinkProblem(workload: Workload, sink: SinkProblem): FoundProblem {
  return {
    file: basename(workload.file),
    workload: workload.id,
    kind: 'sink',
    message: `workload ${workload.id} is served, but its sink cannot be used: ${sink.message}`,
    details: [],
  };
}
