/** The page frame (navigation, who is logged in, live status, log out) around the page the address names. */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Caller } from './components/caller.tsx';
import { Empty } from './components/states.tsx';
import { LiveProvider, useConnection } from './live/live.tsx';
import { EventsPage } from './pages/events.tsx';
import { LoginPage } from './pages/login.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PoolPage } from './pages/pool.tsx';
import { TenantPage } from './pages/tenant.tsx';
import { TenantsPage } from './pages/tenants.tsx';
import { Link, type Route, routeOf, useUrl } from './router.tsx';
import { session, useToken } from './session.ts';

export function App() {
  const token = useToken();
  const client = useQueryClient();
  // Another token sees other things (and none of the last one's cache).
  useEffect(() => {
    if (token === null) client.clear();
  }, [token, client]);
  if (token === null) return <LoginPage />;
  return (
    <LiveProvider key={token}>
      <Frame />
    </LiveProvider>
  );
}

function Frame() {
  const url = useUrl();
  const route = routeOf(url.pathname);
  useEffect(() => {
    document.title = `${title(route)} · Boilerhouse`;
  }, [route]);
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          Boilerhouse
        </Link>
        <nav aria-label="pages">
          <NavLink to="/" current={route.page === 'overview' || route.page === 'pool'}>
            Overview
          </NavLink>
          <NavLink to="/tenants" current={route.page === 'tenants' || route.page === 'tenant'}>
            Tenants
          </NavLink>
          <NavLink to="/events" current={route.page === 'events'}>
            Events
          </NavLink>
        </nav>
        <Caller />
        <LiveStatus />
        <button type="button" className="small quiet" onClick={() => session.logout('You logged out.')}>
          Log out
        </button>
      </header>
      <main className="page">
        <Page route={route} />
      </main>
    </>
  );
}

function NavLink(props: { to: string; current: boolean; children: string }) {
  return (
    <span aria-current={props.current ? 'page' : undefined} className="nav-item">
      <Link to={props.to}>{props.children}</Link>
    </span>
  );
}

function LiveStatus() {
  const { state, error } = useConnection();
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <span
      className={`live ${state}`}
      role="status"
      title={error ?? 'Updates arrive as they happen'}
      data-live={state}
    >
      <span className={`dot-status ${state}`} aria-hidden="true" />
      {text}
    </span>
  );
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'pool':
      return <PoolPage key={route.workload} workload={route.workload} />;
    case 'tenants':
      return <TenantsPage />;
    case 'tenant':
      return <TenantPage key={route.tenant} tenant={route.tenant} />;
    case 'events':
      return <EventsPage />;
    case 'missing':
      return (
        <Empty title={`Nothing at ${route.path}`}>
          <Link to="/">Go to the overview</Link>
        </Empty>
      );
  }
}

function title(route: Route): string {
  switch (route.page) {
    case 'overview':
      return 'Overview';
    case 'pool':
      return `Pool ${route.workload}`;
    case 'tenants':
      return 'Tenants';
    case 'tenant':
      return `Tenant ${route.tenant}`;
    case 'events':
      return 'Events';
    case 'missing':
      return 'Not found';
  }
}
