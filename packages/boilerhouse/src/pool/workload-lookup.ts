/** A workload by the id a caller gave: the API's 404 names the known ones, so a typo shows what was meant. */
import { NotFoundError } from '../errors.ts';
import type { Workload, WorkloadRegistry } from './workloads.ts';

/** A removed workload counts only with `includeRemoved` (its instances can still be released or looked at). */
export function workloadById(
  workloads: Pick<WorkloadRegistry, 'get' | 'list'>,
  id: string,
  options: { includeRemoved?: boolean } = {},
): Workload {
  const workload = workloads.get(id);
  if (workload === undefined || (workload.removed && !options.includeRemoved)) {
    const known = workloads
      .list()
      .filter((candidate) => !candidate.removed)
      .map((candidate) => candidate.id);
    throw new NotFoundError(`no workload "${id}"; known workloads: ${known.join(', ') || 'none'}`);
  }
  return workload;
}
