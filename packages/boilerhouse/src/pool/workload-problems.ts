/**
 * What keeps workload files from being served as written: a file that cannot be read or does not load (its
 * previous version, if any, kept), one that repeats another file's id, a sink that cannot be used. Each
 * lasts as long as its cause, so `bh workload list`, `bh status` and the dashboard show it until it is
 * fixed or its file is gone, and it is said once in the events when it appears or changes (`pool.warning`)
 * and when it clears (`pool.fixed`), rather than at every reload.
 */
import type { Activity } from './activity.ts';

export const WORKLOAD_PROBLEM_KINDS = ['unreadable', 'invalid', 'duplicate', 'sink'] as const;
export type WorkloadProblemKind = (typeof WORKLOAD_PROBLEM_KINDS)[number];

export interface WorkloadProblem {
  /** The file's name in the workloads directory. */
  file: string;
  /** The workload it concerns: the version kept, or the id the file declares; null when neither is known. */
  workload: string | null;
  kind: WorkloadProblemKind;
  /** One line: what is wrong and what Boilerhouse does meanwhile. */
  message: string;
  /** Each error of the text at its place, `FILE:LINE:COL path` (an invalid file's). */
  details: { path: string; message: string }[];
  /** When it was first seen (epoch ms). */
  since: number;
}

export type FoundProblem = Omit<WorkloadProblem, 'since'>;

/** A file has one problem at a time; a sink's belongs to its workload. */
function keyOf(problem: FoundProblem): string {
  return problem.kind === 'sink' ? `sink:${problem.workload}` : `file:${problem.file}`;
}

export class WorkloadProblems {
  readonly #activity: Activity;
  readonly #current = new Map<string, WorkloadProblem>();

  constructor(activity: Activity) {
    this.#activity = activity;
  }

  /** Every problem now, by file. */
  list(): WorkloadProblem[] {
    return [...this.#current.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  /**
   * Makes `found` the problems of the `kinds` given (those of other kinds stay as they are). New or changed
   * ones are recorded as warnings; one that is gone is recorded as fixed, in the words `fixed` gives.
   */
  update(
    kinds: readonly WorkloadProblemKind[],
    found: FoundProblem[],
    fixed: (problem: WorkloadProblem) => string,
    now: number,
  ): void {
    const next = new Map(found.map((problem) => [keyOf(problem), problem]));
    for (const [key, problem] of this.#current) {
      if (!kinds.includes(problem.kind) || next.has(key)) continue;
      this.#current.delete(key);
      this.#activity.record({
        type: 'pool.fixed',
        workload: problem.workload,
        message: fixed(problem),
        data: { file: problem.file, problem: problem.kind },
      });
    }
    for (const [key, problem] of next) {
      const before = this.#current.get(key);
      if (before !== undefined && sameProblem(before, problem)) continue;
      this.#current.set(key, { ...problem, since: before?.since ?? now });
      const why = problem.details.map((detail) => `${detail.path}: ${detail.message}`).join('; ');
      this.#activity.record(
        {
          type: 'pool.warning',
          workload: problem.workload,
          message: why === '' ? problem.message : `${problem.message}: ${why}`,
          data: { file: problem.file, problem: problem.kind },
        },
        'warn',
      );
    }
  }
}

function sameProblem(a: FoundProblem, b: FoundProblem): boolean {
  return (
    a.kind === b.kind &&
    a.workload === b.workload &&
    a.message === b.message &&
    JSON.stringify(a.details) === JSON.stringify(b.details)
  );
}
