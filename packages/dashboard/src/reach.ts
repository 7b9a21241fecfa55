/** What a token reaches, in words for the page frame: every tenant and workload, or only some. */
export interface Reach {
  tenants: readonly string[] | null;
  workloads: readonly string[] | null;
}

export function reachText(reach: Reach): string {
  const parts = [
    reach.tenants === null
      ? undefined
      : `${reach.tenants.length === 1 ? 'tenant' : 'tenants'} ${reach.tenants.join(', ')}`,
    reach.workloads === null
      ? undefined
      : `${reach.workloads.length === 1 ? 'workload' : 'workloads'} ${reach.workloads.join(', ')}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'every tenant and workload' : `only ${parts.join(' and ')}`;
}
