/** The activity stream, live, filtered by workload, tenant and type (the filters live in the address). */
import { useWorkloads } from '../api/queries.ts';
import type { ActivityEvent } from '../api/types.ts';
import { EventList } from '../components/event-list.tsx';
import { Empty, Loading } from '../components/states.tsx';
import { useEvents } from '../live/live.tsx';
import { navigate, useUrl } from '../router.tsx';

const SHOWN = 300;
const FILTERS = ['workload', 'tenant', 'type'] as const;
type Filter = (typeof FILTERS)[number];

/** `instance.claimed` matches itself; `instance` matches every `instance.*`. */
function matches(event: ActivityEvent, filters: Record<Filter, string>): boolean {
  if (filters.workload && event.workload !== filters.workload) return false;
  if (filters.tenant && !(event.tenant ?? '').toLowerCase().includes(filters.tenant.toLowerCase()))
    return false;
  if (filters.type && event.type !== filters.type && !event.type.startsWith(`${filters.type}.`)) return false;
  return true;
}

export function EventsPage() {
  const url = useUrl();
  const events = useEvents();
  const workloads = useWorkloads();
  const filters = Object.fromEntries(
    FILTERS.map((name) => [name, url.searchParams.get(name) ?? '']),
  ) as Record<Filter, string>;
  const setFilter = (name: Filter, value: string) => {
    const next = new URLSearchParams(url.search);
    if (value === '') next.delete(name);
    else next.set(name, value);
    const query = next.toString();
    navigate(`/events${query ? `?${query}` : ''}`, { replace: true });
  };
  const types: string[] = [...new Set((events ?? []).map((event) => event.type))].sort();
  const groups = [...new Set(types.map((type) => type.split('.')[0] as string))];
  const shown = (events ?? []).filter((event) => matches(event, filters));
  return (
    <>
      <header className="page-head">
        <h1>Events</h1>
        <span className="muted small">live; the newest {SHOWN} that match</span>
      </header>
      <form className="inline-form filters" aria-label="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          workload
          <select
            name="workload"
            value={filters.workload}
            onChange={(e) => setFilter('workload', e.target.value)}
          >
            <option value="">all</option>
            {(workloads.data ?? []).map((workload) => (
              <option key={workload.id} value={workload.id}>
                {workload.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          tenant
          <input
            name="tenant"
            type="search"
            value={filters.tenant}
            onChange={(e) => setFilter('tenant', e.target.value)}
          />
        </label>
        <label>
          type
          <select name="type" value={filters.type} onChange={(e) => setFilter('type', e.target.value)}>
            <option value="">all</option>
            {groups.map((group) => (
              <option key={group} value={group}>
                {group}.*
              </option>
            ))}
            {types.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
            {filters.type && !types.includes(filters.type) && !groups.includes(filters.type) ? (
              <option value={filters.type}>{filters.type}</option>
            ) : null}
          </select>
        </label>
        {FILTERS.some((name) => filters[name]) ? (
          <button type="button" className="small" onClick={() => navigate('/events', { replace: true })}>
            Clear filters
          </button>
        ) : null}
      </form>
      {events === null ? (
        <Loading what="events" />
      ) : shown.length === 0 ? (
        <Empty title={events.length === 0 ? 'Nothing has happened yet' : 'No event matches these filters'}>
          New events appear here as they happen.
        </Empty>
      ) : (
        <section className="panel" aria-label="events" data-count={shown.length}>
          <EventList events={shown.slice(-SHOWN).reverse()} />
        </section>
      )}
    </>
  );
}
