/**
 * Live updates: one EventLog per session, and the query cache refreshed by what the events say changed
 * (batched, so a burst of events costs one refetch per query).
 */
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ActivityEvent } from '../api/types.ts';
import { type Connection, EventLog } from './event-log.ts';

const LiveContext = createContext<EventLog | null>(null);
const BATCH_MS = 150;

/** The cached queries an event makes stale (query keys start with these). */
export function staleKeys(event: ActivityEvent): unknown[][] {
  const [kind] = event.type.split('.');
  switch (kind) {
    case 'instance':
      return [['pools'], ['instances'], ['tenants'], ['tenant', event.tenant], ['claims']];
    case 'state':
      return [['snapshots', event.tenant, event.workload]];
    case 'pool':
      return [['pools'], ['workloads'], ['workload', event.workload], ['instances']];
    case 'daemon':
      return [[]];
    default:
      return [];
  }
}

function refresher(client: QueryClient) {
  let pending = new Map<string, unknown[]>();
  let scheduled = false;
  return (events: ActivityEvent[], resumed: boolean) => {
    for (const key of resumed ? [[]] : events.flatMap(staleKeys)) pending.set(JSON.stringify(key), key);
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      const keys = [...pending.values()];
      pending = new Map();
      scheduled = false;
      for (const queryKey of keys) void client.invalidateQueries({ queryKey });
    }, BATCH_MS);
  };
}

export function LiveProvider(props: { children: ReactNode }) {
  const client = useQueryClient();
  const [log] = useState(() => new EventLog(refresher(client)));
  useEffect(() => {
    const abort = new AbortController();
    void log.run(abort.signal);
    return () => abort.abort();
  }, [log]);
  return <LiveContext.Provider value={log}>{props.children}</LiveContext.Provider>;
}

function useLog(): EventLog {
  const log = useContext(LiveContext);
  if (log === null) throw new Error('useEvents needs a LiveProvider above it');
  return log;
}

/** Every event held, oldest first; null while the first page loads. */
export function useEvents(): readonly ActivityEvent[] | null {
  const log = useLog();
  return useSyncExternalStore(log.subscribe, log.events);
}

export function useConnection(): { state: Connection; error: string | undefined } {
  const log = useLog();
  const state = useSyncExternalStore(log.subscribe, log.connection);
  const error = useSyncExternalStore(log.subscribe, log.error);
  return { state, error };
}
