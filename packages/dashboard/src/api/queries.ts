/**
 * The data each page reads, cached by TanStack Query under keys the live events refresh (live/live.tsx),
 * and the operator's actions. Nothing polls: the event stream says when to refetch.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, data } from './client.ts';

/** The token logged in with: its name, scopes and reach. It does not change while it is used. */
export function useCaller() {
  return useQuery({
    queryKey: ['caller'],
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: () => data(api.GET('/api/v1/whoami')),
  });
}

export function usePools() {
  return useQuery({
    queryKey: ['pools'],
    queryFn: async () => (await data(api.GET('/api/v1/pools'))).pools,
  });
}

/** One answer holds both the workloads and their files' problems: both hooks read it from one cache entry. */
const workloadList = () => data(api.GET('/api/v1/workloads'));

export function useWorkloads() {
  return useQuery({ queryKey: ['workloads'], queryFn: workloadList, select: (body) => body.workloads });
}

/** What keeps workload files from being served as written: it lasts until fixed or the file is gone. */
export function useWorkloadProblems() {
  return useQuery({ queryKey: ['workloads'], queryFn: workloadList, select: (body) => body.problems });
}

export function useWorkloadFile(id: string) {
  return useQuery({
    queryKey: ['workload', id],
    queryFn: () => data(api.GET('/api/v1/workloads/{id}', { params: { path: { id } } })),
  });
}

/** Idle deadlines move with a tenant's writes, which make no event: instance views also refresh slowly. */
const IDLE_REFRESH_MS = 30_000;

export function useInstances(workload: string) {
  return useQuery({
    queryKey: ['instances', workload],
    refetchInterval: IDLE_REFRESH_MS,
    queryFn: async () =>
      (await data(api.GET('/api/v1/instances', { params: { query: { workload } } }))).instances,
  });
}

export function useTenants() {
  return useQuery({
    queryKey: ['tenants'],
    queryFn: async () => (await data(api.GET('/api/v1/tenants'))).tenants,
  });
}

export function useTenant(tenant: string) {
  return useQuery({
    queryKey: ['tenant', tenant],
    refetchInterval: IDLE_REFRESH_MS,
    queryFn: () => data(api.GET('/api/v1/tenants/{tenant}', { params: { path: { tenant } } })),
  });
}

export function useSnapshots(tenant: string, workload: string, enabled: boolean) {
  return useQuery({
    queryKey: ['snapshots', tenant, workload],
    enabled,
    queryFn: () =>
      data(
        api.GET('/api/v1/tenants/{tenant}/snapshots', {
          params: { path: { tenant }, query: { workload } },
        }),
      ),
  });
}

export function useSecretNames(tenant: string) {
  return useQuery({
    queryKey: ['secrets', tenant],
    queryFn: async () =>
      (await data(api.GET('/api/v1/tenants/{tenant}/secrets', { params: { path: { tenant } } }))).secrets,
  });
}

/** An action; on success the given queries are refetched (events refresh the rest). */
function useAction<I, O>(run: (input: I) => Promise<O>, refresh: (input: I) => unknown[][]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: (_, input) =>
      Promise.all(refresh(input).map((queryKey) => client.invalidateQueries({ queryKey }))),
  });
}

export function useScale(workload: string) {
  return useAction(
    (sizes: { min_idle?: number | null; max_size?: number | null }) =>
      data(api.POST('/api/v1/pools/{workload}/scale', { params: { path: { workload } }, body: sizes })),
    () => [['pools'], ['workloads']],
  );
}

export function useDrain(workload: string) {
  return useAction(
    () => data(api.POST('/api/v1/pools/{workload}/drain', { params: { path: { workload } } })),
    () => [['pools'], ['instances', workload]],
  );
}

/** Moves the pool's claimed tenants on an old version to the current one now, each saved first. */
export function useUpgrade(workload: string) {
  return useAction(
    () =>
      data(
        api.POST('/api/v1/workloads/{id}/upgrade', {
          params: { path: { id: workload } },
          body: { now: true },
        }),
      ),
    () => [['pools'], ['instances', workload], ['tenants']],
  );
}

export function useDestroyInstance() {
  return useAction(
    (id: string) => data(api.DELETE('/api/v1/instances/{id}', { params: { path: { id } } })),
    () => [['pools'], ['instances']],
  );
}

export function useClaim(tenant: string) {
  return useAction(
    (workload: string) =>
      data(api.POST('/api/v1/tenants/{tenant}/claim', { params: { path: { tenant } }, body: { workload } })),
    () => [['tenant', tenant], ['tenants'], ['pools']],
  );
}

export function useRelease(tenant: string) {
  return useAction(
    (workload: string) =>
      data(
        api.POST('/api/v1/tenants/{tenant}/release', { params: { path: { tenant } }, body: { workload } }),
      ),
    (workload) => [['tenant', tenant], ['tenants'], ['pools'], ['snapshots', tenant, workload]],
  );
}

export function useRestore(tenant: string, workload: string) {
  return useAction(
    (seq: number) =>
      data(
        api.POST('/api/v1/tenants/{tenant}/snapshots/{seq}/restore', {
          params: { path: { tenant, seq: String(seq) } },
          body: { workload },
        }),
      ),
    () => [
      ['snapshots', tenant, workload],
      ['tenant', tenant],
    ],
  );
}

export function useSecretChange(tenant: string) {
  return useAction(
    (change: { workload: string; set?: Record<string, string>; remove?: string[] }) =>
      data(api.PATCH('/api/v1/tenants/{tenant}/secrets', { params: { path: { tenant } }, body: change })),
    () => [['secrets', tenant]],
  );
}
