/** The dashboard's pages and the paths that name them. */

export type Route =
  | { page: 'overview' }
  | { page: 'pool'; workload: string }
  | { page: 'tenants' }
  | { page: 'tenant'; tenant: string }
  | { page: 'events' }
  | { page: 'missing'; path: string };

export function routeOf(pathname: string): Route {
  let parts: string[];
  try {
    parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'missing', path: pathname };
  }
  const [first, second, ...rest] = parts;
  if (rest.length > 0) return { page: 'missing', path: pathname };
  if (first === undefined) return { page: 'overview' };
  if (first === 'pools' && second !== undefined) return { page: 'pool', workload: second };
  if (first === 'tenants')
    return second === undefined ? { page: 'tenants' } : { page: 'tenant', tenant: second };
  if (first === 'events' && second === undefined) return { page: 'events' };
  return { page: 'missing', path: pathname };
}

export const paths = {
  pool: (workload: string) => `/pools/${encodeURIComponent(workload)}`,
  tenant: (tenant: string) => `/tenants/${encodeURIComponent(tenant)}`,
};
