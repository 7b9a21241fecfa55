/**
 * Workload files' problems as `workload list` and `status` print them: each one's line (what is wrong, what
 * Boilerhouse does meanwhile, since when), then each error of the file at its place, indented.
 */
import type { WorkloadProblemView } from './api-types.ts';
import { relativeTime } from './format.ts';

export function problemsText(problems: WorkloadProblemView[], now = Date.now()): string {
  if (problems.length === 0) return '';
  const lines = problems.flatMap((problem) => [
    `${problem.message} (since ${relativeTime(problem.since, now)})`,
    ...problem.details.map((detail) => `  ${detail.path}: ${detail.message}`),
  ]);
  return `PROBLEMS\n${lines.join('\n')}\n`;
}
