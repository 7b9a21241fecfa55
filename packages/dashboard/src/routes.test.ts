import { expect, test } from 'vitest';
import { paths, routeOf } from './routes.ts';

test('page paths name their pages; ids are decoded, and the paths the dashboard writes read back', () => {
  expect(routeOf('/')).toEqual({ page: 'overview' });
  expect(routeOf('/pools/echo')).toEqual({ page: 'pool', workload: 'echo' });
  expect(routeOf('/tenants')).toEqual({ page: 'tenants' });
  expect(routeOf(paths.tenant('ann+1@example.com'))).toEqual({ page: 'tenant', tenant: 'ann+1@example.com' });
  expect(routeOf('/events/')).toEqual({ page: 'events' });
  expect(routeOf('/pools')).toEqual({ page: 'missing', path: '/pools' });
  expect(routeOf('/tenants/a/b')).toEqual({ page: 'missing', path: '/tenants/a/b' });
  expect(routeOf('/tenants/%E0%A4%A')).toEqual({ page: 'missing', path: '/tenants/%E0%A4%A' });
});
