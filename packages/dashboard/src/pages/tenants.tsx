/** Tenants holding instances now, searchable; any tenant id can be opened (to claim, or restore a save). */
import { type FormEvent, useState } from 'react';
import { useTenants } from '../api/queries.ts';
import { PhaseBadge } from '../components/phase.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { Link, navigate, paths } from '../router.tsx';

export function TenantsPage() {
  const tenants = useTenants();
  const [search, setSearch] = useState('');
  const open = (event: FormEvent) => {
    event.preventDefault();
    if (search.trim() !== '') navigate(paths.tenant(search.trim()));
  };
  return (
    <>
      <header className="page-head">
        <h1>Tenants</h1>
      </header>
      <search>
        <form className="inline-form search" onSubmit={open}>
          <label htmlFor="tenant-search" className="sr-only">
            Tenant
          </label>
          <input
            id="tenant-search"
            type="search"
            placeholder="Find or open a tenant id…"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
          <button type="submit" className="primary">
            Open
          </button>
        </form>
      </search>
      <Loaded query={tenants} what="the tenants">
        {(list) => {
          const needle = search.trim().toLowerCase();
          const shown = list.filter((entry) => entry.tenant.toLowerCase().includes(needle));
          if (list.length === 0) {
            return (
              <Empty title="No tenant holds an instance now">
                Open a tenant by its id above to claim for it or to see its saves.
              </Empty>
            );
          }
          if (shown.length === 0) {
            return (
              <Empty title={`No tenant holding an instance matches "${search.trim()}"`}>
                Press Open to go to that tenant anyway.
              </Empty>
            );
          }
          return (
            <div className="table-wrap">
              <table className="tenants">
                <thead>
                  <tr>
                    <th>tenant</th>
                    <th>instances</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((entry) => (
                    <tr key={entry.tenant} data-tenant={entry.tenant}>
                      <td>
                        <Link to={paths.tenant(entry.tenant)}>{entry.tenant}</Link>
                      </td>
                      <td>
                        {entry.instances.map((instance) => (
                          <span key={instance.id} className="holding">
                            <Link to={paths.pool(instance.workload)}>{instance.workload}</Link>{' '}
                            <PhaseBadge phase={instance.phase} />
                          </span>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loaded>
    </>
  );
}
